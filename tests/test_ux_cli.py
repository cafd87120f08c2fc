"""Issue 13: every word the command line shows is French; quality and plan say less by default."""
import argparse
import json
import re
import subprocess
import sys

import pandas as pd
import pytest

from fne_eval.cli.main import build_parser, main

# Words and phrases of argparse's English, or English help text, that a French user must never see.
ENGLISH = [
    r"\busage:", r"show this help", r"positional arguments", r"\boptions:", r"\berror:", r"show program's",
    r"\bthe\b", r"\bof\b", r"\bwith\b", r"\bwhen\b", r"\bdefault:", r"\bprint\b", r"\bfolder\b", r"\bwrite\b",
    r"\bevery\b", r"\bonly\b", r"\bthese\b", r"\bexit\b", r"\brequired\b", r"\binvalid\b", r"\bexpected\b",
]


def _all_parsers(parser, path=()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _all_parsers(sub, path + (name,))


def _english(text):
    text = re.sub(r"--?[a-z][a-z-]*", " ", text)  # option names (--only, --all) are identifiers, not prose
    return [p for p in ENGLISH if re.search(p, text, flags=re.I)]


def test_every_help_is_french(capsys):
    paths = [path for path, _ in _all_parsers(build_parser())]
    # the contract's subcommands and bundle init are all reached by the walk
    assert {("validate",), ("quality",), ("figures",), ("template",), ("export",), ("import",),
            ("bundle",), ("bundle", "init"), ("plan",), ("run",)} <= set(paths)
    for path in paths:
        with pytest.raises(SystemExit) as exc:
            main([*path, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith("usage : fne-eval"), path
        assert "options :" in out and "afficher cette aide et quitter" in out, path
        assert not _english(out), (path, _english(out), out)


def test_console_script_help_is_french():
    exe = __import__("shutil").which("fne-eval", path=str(__import__("pathlib").Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-m", "fne_eval.cli.main"]
    out = subprocess.run([*cmd, "--help"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("usage : fne-eval") and not _english(out)
    assert "--version" in out and "afficher la version et quitter" in out


@pytest.mark.parametrize("argv, expected", [
    ([], "arguments obligatoires manquants : COMMANDE"),
    (["nimporte"], "choix invalide : 'nimporte' (valeurs possibles : 'validate'"),
    (["figures", "--year", "deux"], "argument --year : nombre entier attendu, reçu 'deux'"),
    (["run", "p.yaml", "--jobs"], "argument --jobs : une valeur attendue"),
    (["validate", "--inconnue"], "arguments non reconnus : --inconnue"),
    (["run"], "arguments obligatoires manquants : PLAN.yaml"),
    (["quality", "--severity", "grave"], "choix invalide : 'grave' (valeurs possibles : 'erreur', 'alerte', 'info')"),
])
def test_argument_errors_are_french(argv, expected, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage : fne-eval")
    assert " : erreur : " in err and expected in err, err
    assert not _english(err), err


# ------------------------------------------------------------------ quality
@pytest.fixture
def quality_bundle(tmp_path):
    from fne_eval.bundle.io import coerce_table, write_bundle
    from fne_eval.bundle.spec import TABLES

    rows = []
    # two shares above 100 % (410 % and 150 %) and a plausible one: 2 findings of one rule, both errors
    for i, (name, pop, fragile, share) in enumerate([("Village", 125, 513, 410), ("Hameau", 200, 300, 150),
                                                     ("Bourg", 1000, 250, 25)], start=1):
        rows.append({"row_number": i, "printed_name": name, "printed_population": pop,
                     "printed_fragile_population": fragile, "printed_share_pct": share,
                     "printed_postal_code": "", "printed_ifn": 6.0, "is_total_row": False})
    table = coerce_table(pd.DataFrame(rows), TABLES["exposed_communes"])
    write_bundle({"exposed_communes": table}, tmp_path / "b")
    return str(tmp_path / "b")


def test_quality_prints_a_summary_by_default(quality_bundle, capsys):
    assert main(["quality", quality_bundle]) == 0
    out = capsys.readouterr().out
    lines = [l for l in out.splitlines() if "share_above_100" in l]
    assert len(lines) == 1, out  # one line for the rule, not one per finding
    assert re.match(r"^\s+2\s+share_above_100\s+2 erreurs\s+Part ou taux", lines[0]), lines[0]
    assert "[erreur]" not in out and "Village" not in out
    assert "--all" in out


def test_quality_all_lists_every_finding(quality_bundle, capsys):
    assert main(["quality", quality_bundle, "--all"]) == 0
    out = capsys.readouterr().out
    assert out.count("[erreur] share_above_100") == 2
    assert "Village" in out and "Hameau" in out and "Bourg" not in out


def test_quality_filters(quality_bundle, capsys):
    assert main(["quality", quality_bundle, "--severity", "alerte"]) == 0
    out = capsys.readouterr().out
    assert "0 constats retenus par les filtres" in out and "sur 2." in out
    assert main(["quality", quality_bundle, "--rule", "share_above_100", "--table", "exposed_communes"]) == 0
    out = capsys.readouterr().out  # a filter lists the (few) findings it keeps
    assert "2 constats retenus" in out and out.count("[erreur] share_above_100") == 2
    assert main(["quality", quality_bundle, "--table", "lieux", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["findings"] == []


@pytest.mark.parametrize("option, value, word", [("--rule", "pas_une_regle", "règle inconnue"),
                                                 ("--table", "pas_une_table", "table inconnue"),
                                                 ("--territory", "99", "territoire inconnu")])
def test_quality_unknown_filter_value(quality_bundle, option, value, word, capsys):
    assert main(["quality", quality_bundle, option, value]) == 1
    err = capsys.readouterr().err
    assert word in err and value in err


def test_quality_territory_filter_takes_the_members():
    from fne_eval.bundle import load_bundle
    from fne_eval.cli.quality import filter_findings

    b = load_bundle()
    f = pd.DataFrame({"rule": ["r"] * 4, "severity": ["info"] * 4, "table": ["lieux"] * 4,
                      "key": ["id=a", "id=b", "id=c", "id=d"], "message": ["m"] * 4,
                      # Aix-en-Provence and Marseille 1er are in the Métropole Aix-Marseille-Provence
                      # (SIREN 200054807), Arles is not; the last row has no territory
                      "territory_code": ["13001", "13201", "13004", None]})
    kept = filter_findings(f, b, territories=["200054807"])
    assert kept["key"].tolist() == ["id=a", "id=b"]
    assert filter_findings(f, b, territories=["13004"])["key"].tolist() == ["id=c"]
    assert len(filter_findings(f, b, territories=["13"])) == 3


# ------------------------------------------------------------------ plan
def test_plan_without_list_is_a_summary(capsys):
    assert main(["plan", "params/copil-2025.yaml"]) == 0
    short = capsys.readouterr().out
    assert main(["plan", "params/copil-2025.yaml", "--list"]) == 0
    full = capsys.readouterr().out
    # the plan: the dossier, the budget, the annex and the département + its 4 EPCI (seed) = 8
    assert "8 entrée(s)" in short and "8 entrée(s)" in full
    assert "impact : 5 entrée(s)" in short and "budget : 1 entrée(s)" in short
    assert "impact-13-axe-all" not in short and "--list" in short
    assert "impact-13-axe-all" in full and len(full.splitlines()) == 1 + 8


# ------------------------------------------------------------------ developer log
def test_library_log_lines_stay_off_the_terminal(tmp_path, monkeypatch):
    # a bundle whose only population is missing for every commune: the territory joins log, in English,
    # rows without population; the user's terminal must show none of it
    script = (
        "import logging, sys, warnings\n"
        "import fne_eval.cli.main\n"
        "from fne_eval.cli import commands\n"
        "def cmd_validate(args):\n"  # a command whose library code logs and warns, in English
        "    logging.getLogger('fne_eval.core.territory').warning('unit_populations(2025): local units without "
        "population (%d)', 3)\n"
        "    warnings.warn('a developer warning')\n"
        "    print('bundle valide')\n"
        "    return 0\n"
        "commands.cmd_validate = cmd_validate\n"
        "sys.exit(sys.modules['fne_eval.cli.main'].main(['validate']))\n"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env={
        **__import__("os").environ, "FNE_EVAL_LOG": ""})
    assert r.returncode == 0 and r.stderr == "" and r.stdout == "bundle valide\n"
    log = tmp_path / "dev.log"
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env={
        **__import__("os").environ, "FNE_EVAL_LOG": str(log)})
    assert r.stderr == ""
    text = log.read_text(encoding="utf-8")
    assert "unit_populations(2025): local units without population (3)" in text and "a developer warning" in text


# ------------------------------------------------------------------ what commands print on bad input
ENGLISH_MESSAGES = ENGLISH + [r"No such file", r"\[Errno", r"\brow \d", r"\bcolumn \w", r"\bvalue '", r"\bcannot\b",
                              r"\bnot found\b", r"\bunknown\b", r"\bmissing\b", r"Traceback"]


@pytest.fixture(scope="module")
def broken_bundle(tmp_path_factory):
    root = tmp_path_factory.mktemp("broken")
    assert main(["bundle", "init", str(root / "b")]) == 0
    p = root / "b" / "budget_lines.csv"
    lines = p.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("6000.00", "6 000,00x")
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "plan.yaml").write_text("name: x\nentries: 3\n", encoding="utf-8")
    (root / "notes.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    return root


@pytest.mark.parametrize("argv", [
    ["validate", "{root}/b"], ["validate", "{root}/absent"], ["validate", "{root}/notes.csv"],
    ["figures", "--bundle", "{root}/b"], ["figures", "--territory", "99"],
    ["plan", "{root}/absent.yaml"], ["plan", "{root}/plan.yaml"], ["run", "{root}/plan.yaml"],
    ["run", "params/exemple-petit.yaml", "--to", "odt"],
    ["export", "/proc/interdit"], ["template", "/proc/interdit.xlsx"], ["bundle", "init", "/proc/interdit"],
    ["import", "lieux-standard", "{root}/absent.csv", "--out", "{root}/o.csv"],
    ["import", "lieux-standard", "{root}/notes.csv", "--out", "{root}/o.csv"],
    ["import", "coop-activites", "{root}/notes.csv", "--into", "{root}/b"],
    ["import", "min-lieux", "--into", "{root}/b"],
    ["quality", "{root}/absent"], ["quality", "--rule", "inexistante"],
])
def test_messages_on_bad_input_are_french(argv, broken_bundle, capsys):
    code = main([a.format(root=broken_bundle) for a in argv])
    assert code != 0
    cap = capsys.readouterr()
    text = re.sub(r"(?:/[\w.\-]+)+", " ", cap.out + cap.err)  # paths are names, not words
    text = re.sub(r"« [^»]*»", " ", text)  # values quoted from the data
    assert text.strip(), argv
    assert not [p for p in ENGLISH_MESSAGES if re.search(p, text, flags=re.I)], (argv, cap.out + cap.err)


def test_os_errors_are_translated_without_eating_the_sentence():
    from fne_eval.cli.french import translate_os_text

    assert translate_os_text("dossier x.partial : [Errno 28] No space left on device ; il n'est pas fini") == \
        "dossier x.partial : plus de place sur le disque ; il n'est pas fini"
    assert translate_os_text("plan illisible : [Errno 2] No such file or directory: 'p.yaml'") == \
        "plan illisible : fichier ou dossier introuvable (p.yaml)"
