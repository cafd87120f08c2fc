"""Tests of the indicator store (issue 9): one definition, one value, one status per figure.

The differencing test rebuilds, independently of :mod:`fne_eval.store.protect`, the linear
system an attacker has: every published count of people is a sum of unknown counts (per
commune or arrondissement, per category of an EPCI's part in a département, per month),
and breakdowns add up to their totals. A hidden cell is safe iff adding its row to the
published rows raises the rank (numpy's ``matrix_rank``, not the module's SVD routine).
"""
import json
import re
from collections import defaultdict
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from fne_eval import store
from fne_eval.cli.indicators import cmd_indicators, published_frame
from fne_eval.report import make_context, sections

ADDITIVE = {"age_band", "gender", "social_status", "activity_type", "month"}
UNLOCATED = ("sans commune", "")  # records without a commune of residence: counted by the département only


@pytest.fixture(scope="module")
def s2025(default_bundle):
    return store.load(default_bundle, year=2025)


def territory_units(terr: pd.DataFrame) -> pd.DataFrame:
    """Communes and arrondissements, Marseille by its arrondissements (13055 keeps its arrondissements)."""
    t = terr.copy()
    t["territory_code"] = t["territory_code"].astype(str)
    arr = t[t["level"].astype(str) == "arrondissement"]
    parents = set(arr["commune_code"].astype(str))
    com = t[(t["level"].astype(str) == "commune") & ~t["territory_code"].isin(parents)]
    units = pd.concat([com, arr])
    return units[["territory_code", "level", "epci_siren", "departement_code"]].astype(str)


def _attacker_system(cells: pd.DataFrame, terr: pd.DataFrame):
    """Return the rows (one per cell) and the known equations over the unknown counts."""
    units = territory_units(terr)
    by_epci = defaultdict(list)
    by_dept = defaultdict(list)
    atom = {}
    for r in units.itertuples(index=False):
        by_epci[r.epci_siren].append(r.territory_code)
        by_dept[r.departement_code].append(r.territory_code)
        atom[r.territory_code] = (r.epci_siren, r.departement_code)
    marseille_arr = [u for u in units["territory_code"] if u.startswith("132") and len(u) == 5]
    var = {}

    def v(key):
        return var.setdefault(key, len(var))

    rows = []
    for r in cells.itertuples(index=False):
        code, lvl = str(r.territory_code), str(r.level)
        if lvl in ("commune", "arrondissement"):
            members = marseille_arr if code == "13055" else [code]
        elif lvl == "epci":
            members = by_epci[code]
        else:
            members = by_dept[code] + [UNLOCATED]
        month = len(str(r.period)) == 7
        if r.breakdown or month:
            dim, cat = ("month", r.period) if month else r.breakdown.split("=", 1)
            atoms = sorted({UNLOCATED if u == UNLOCATED else atom[u] for u in members})
            rows.append([v(("x", a, dim, cat)) for a in atoms])
        else:
            rows.append([v(("t", u)) for u in members])
    equations = []
    groups = defaultdict(list)
    for key in list(var):
        if key[0] == "x" and key[2] in ADDITIVE:
            groups[(key[1], key[2])].append(var[key])
    for (a, _dim), xs in groups.items():
        us = [UNLOCATED] if a == UNLOCATED else [u for u, at in atom.items() if at == a]
        equations.append((xs, [v(("t", u)) for u in us]))
    n = len(var)
    A = np.zeros((len(rows), n))
    for i, cols in enumerate(rows):
        A[i, cols] = 1
    E = np.zeros((len(equations), n))
    for i, (plus, minus) in enumerate(equations):
        E[i, plus] = 1
        E[i, minus] = -1
    return A, E


@pytest.mark.parametrize("indicator_id", ["accompaniments", "participations"])
@pytest.mark.parametrize("year", ["2024", "2025"])
def test_no_hidden_count_is_recoverable_by_differencing(default_bundle, s2025, indicator_id, year):
    cells = s2025[(s2025["indicator"] == indicator_id) & (s2025["period"].str[:4] == year)
                  & ~s2025["breakdown"].str.startswith("theme=")].reset_index(drop=True)
    hidden = cells["status"].isin(["primary", "secondary"]).to_numpy()
    assert hidden.any()  # the embedded bundle has small counts: the test is not empty
    A, E = _attacker_system(cells, default_bundle["territories"])
    K = np.vstack([A[~hidden], E])
    H = A[hidden]
    # h is recoverable iff it is a combination of the known rows: least squares K^T l = h leaves no residual
    sol = np.linalg.lstsq(K.T, H.T, rcond=None)[0]
    residual = np.abs(K.T @ sol - H.T).max(axis=0)
    determined = np.flatnonzero(hidden)[residual < 1e-6].tolist()
    assert determined == [], cells.loc[determined, ["level", "territory_code", "period", "breakdown", "value"]]
    # and the check can fail: publish every secondary cell (suppression per table only) and
    # some primary cell becomes recoverable
    primary = (cells["status"] == "primary").to_numpy()
    if (cells["status"] == "secondary").any():
        K2 = np.vstack([A[~primary], E])
        sol2 = np.linalg.lstsq(K2.T, A[primary].T, rcond=None)[0]
        assert (np.abs(K2.T @ sol2 - A[primary].T).max(axis=0) < 1e-6).any()


def test_primary_rule_by_hand(s2025):
    """Counts of people 1-4 are hidden, 0 and 5+ are not hidden by the primary rule."""
    ppl = s2025[s2025["indicator"].isin(["accompaniments", "participations"])]
    small = ppl[(ppl["value"] > 0) & (ppl["value"] < 5)]
    assert len(small) and (small["status"] == "primary").all()
    assert not ((ppl["status"] == "primary") & ((ppl["value"] == 0) | (ppl["value"] >= 5))).any()


def test_rates_are_hidden_with_their_count(s2025):
    part = s2025[(s2025["indicator"] == "participations") & (s2025["breakdown"] == "")
                 & (s2025["period"].str.len() == 4)].set_index(["territory_code", "period"])
    rate = s2025[s2025["indicator"] == "participations_per_1000"].set_index(["territory_code", "period"])
    hidden_counts = part.index[part["status"] != "shown"]
    assert len(hidden_counts)
    assert (rate.loc[hidden_counts, "status"] != "shown").all()


def test_rate_is_count_over_population_by_hand(default_bundle, s2025):
    """participations_per_1000 of CCVBA 2025 = its participations / population millésime 2023 × 1000."""
    get = lambda ind, per: s2025[(s2025["indicator"] == ind) & (s2025["territory_code"] == "241300375")
                                 & (s2025["period"] == per) & (s2025["breakdown"] == "")]["value"].iloc[0]
    pops = default_bundle["populations"]
    terr = default_bundle["territories"]
    members = set(terr.loc[terr["epci_siren"].astype(str) == "241300375", "territory_code"].astype(str))
    pop = pd.to_numeric(pops[(pops["territory_code"].astype(str).isin(members))
                             & (pd.to_numeric(pops["year"]) == 2023)]["population"]).sum()
    assert get("population", "2025") == pop
    assert get("participations_per_1000", "2025") == pytest.approx(get("participations", "2025") / pop * 1000)


def test_store_is_built_once_and_cached_on_disk(default_bundle, tmp_path, monkeypatch):
    monkeypatch.setenv("FNE_EVAL_CACHE_DIR", str(tmp_path))
    store.STORE_MEMO.clear()
    a = store.get_store(default_bundle, "2025-12-31")
    files = list((tmp_path / "stores").glob("*.parquet"))
    assert len(files) == 1
    store.STORE_MEMO.clear()
    b = store.get_store(default_bundle, "2025-12-31")
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    # a file planted under this key (another store copied over it) is not served
    other = store.get_store(default_bundle, "2024-12-31")
    store.STORE_MEMO.clear()
    key = store.store_key(default_bundle, pd.Timestamp("2025-12-31"), 5)
    src = [f for f in (tmp_path / "stores").glob("*.parquet") if key not in f.name][0]
    (tmp_path / "stores" / f"{key}.parquet").write_bytes(src.read_bytes())
    c = store.get_store(default_bundle, "2025-12-31")
    pd.testing.assert_frame_equal(a.reset_index(drop=True), c.reset_index(drop=True))
    assert len(other) != len(a) or not other.equals(a)
    # a plain Parquet file with the right key inside, planted by someone else, is not served either
    store.STORE_MEMO.clear()
    forged = a.copy()
    forged.loc[forged["indicator"] == "population", "value"] = 1.0
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pa.Table.from_pandas(forged, preserve_index=False)
    t = t.replace_schema_metadata({**(t.schema.metadata or {}), b"fne_eval_store_key": key.encode()})
    pq.write_table(t, tmp_path / "stores" / f"{key}.parquet")
    d = store.get_store(default_bundle, "2025-12-31")
    assert (d.loc[d["indicator"] == "population", "value"] > 1).all()


def test_load_gives_plain_numbers(s2025):
    assert s2025["value"].dtype == np.float64
    budget = s2025[(s2025["indicator"] == "budget_planned_eur") & (s2025["breakdown"].str.startswith("action="))]
    # annexe 6 of the roadmap: the 10 action lines sum to 71 433 €, and no Total row sits among them
    assert budget["value"].sum() == pytest.approx(71433.0)
    assert len(budget) == 10


def test_indicators_export(default_bundle, tmp_path, capsys):
    out = tmp_path / "ind"
    assert cmd_indicators(SimpleNamespace(bundle=None, out=str(out), year=2025, as_of=None, fmt="csv")) == 0
    pkg = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert {r["name"] for r in pkg["resources"]} == {"indicateurs", "registre"}
    data = pd.read_csv(out / "indicateurs.csv", dtype={"territory_code": str, "period": str})
    hidden = data["status"].isin(["primary", "secondary"])
    assert hidden.any() and data.loc[hidden, "value"].isna().all()
    assert data.loc[~hidden & (data["status"] == "shown"), "value"].notna().all()
    # a second export to the same folder writes nothing and says so
    assert cmd_indicators(SimpleNamespace(bundle=None, out=str(out), year=2025, as_of=None, fmt="csv")) == 1
    assert "existe déjà" in capsys.readouterr().err


def test_frictionless_accepts_the_export(tmp_path):
    frictionless = pytest.importorskip("frictionless")
    out = tmp_path / "ind"
    assert cmd_indicators(SimpleNamespace(bundle=None, out=str(out), year=2025, as_of=None, fmt="csv")) == 0
    report = frictionless.validate(str(out / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


def _tagged(html_text: str) -> list:
    pat = re.compile(r'data-indicator="([^"]*)" data-territory="([^"]*)" data-period="([^"]*)" '
                     r'data-breakdown="([^"]*)"[^>]*>([^<]*)<')
    return pat.findall(html_text)


def test_same_figure_same_text_in_every_report(default_bundle, s2025):
    """Every figure tagged in the département's and the EPCIs' sections prints the store's value or mark."""
    seen = defaultdict(set)
    terr = default_bundle["territories"]
    codes = ["13"] + sorted(terr.loc[terr["level"].astype(str) == "epci", "territory_code"].astype(str))
    for code in codes:
        ctx = make_context(default_bundle, code, "all", 2025, 5)
        for build in (sections.context, sections.offer, sections.activity, sections.results):
            for key in _tagged(build(ctx)._repr_html_()):
                seen[key[:4]].add(key[4])
    assert len(seen) > 100
    idx = s2025.set_index(["indicator", "territory_code", "period", "breakdown"])
    for key, texts in seen.items():
        assert len(texts) == 1, (key, texts)  # one text per figure across reports
        text = next(iter(texts))
        if key[0].startswith("roadmap."):
            continue
        row = idx.loc[key]
        if row["status"] == "primary":
            assert text == "&lt; 5"
        elif row["status"] == "secondary":
            assert text == "(s)"
        elif key[0] in ("accompaniments", "participations", "population", "lieux"):
            assert int(text.replace("\u202f", "").replace("\xa0", "")) == int(row["value"])


def test_figures_command_matches_the_review_year(default_bundle):
    """`figures --year 2025` is as of 31 Dec 2025, like the 2025 review; the bundle's last date is later."""
    from fne_eval.store.figures import headline_figures

    f = headline_figures(default_bundle, year=2025)
    assert f["as_of"] == "2025-12-31"
    tx = default_bundle["budget_transactions"]
    lines = default_bundle["budget_lines"]
    action_lines = set(lines.loc[lines["action_code"].notna(), "budget_line_id"])
    tx = tx[tx["budget_line_id"].isin(action_lines) & (pd.to_datetime(tx["date"]) <= "2025-12-31")]
    paid = pd.to_numeric(tx.loc[tx["kind"].astype(str) == "payment", "amount_eur"].astype(float)).sum()
    assert float(f["budget"]["paid_eur"]) == pytest.approx(paid, abs=0.005)


def test_readme_analyst_queries_run(default_bundle):
    """The README's three analyst queries run as printed and give the store's figures."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("Trois requêtes d'analyste")[1].split("```python\n")[1].split("```")[0]
    ns = {}
    exec(compile(block.replace('m.plot(x="period", y="value")', "m.head()"), "README", "exec"), ns)
    p = ns["p"].pivot(index="territory_code", columns="indicator", values="value")
    assert len(p) == 4 and (p["participations"] > 0).all()
    assert len(ns["m"]) >= 12 and (ns["m"]["status"] == "shown").all()
    assert ns["b"]["breakdown"].nunique() == 10


def test_figures_json_equals_the_2025_dossier_key_figures(capsys):
    """`fne-eval figures --year 2025 --json` gives the numbers of the 2025 dossier's first page."""
    import html as _html

    from fne_eval.cli.main import main
    from fne_eval.report import open_report

    assert main(["figures", "--year", "2025", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    ctx = open_report("", "13", "all", 2025, 5, report="revue_annuelle", display=False)
    page = sections.first_page(ctx)._repr_html_()
    tagged = {t[:4]: t[4] for t in _tagged(page)}
    num = lambda s: int(s.replace("\u202f", "").replace("\xa0", ""))  # noqa: E731
    assert num(tagged[("accompaniments", "13", "2025", "")]) == data["accompaniments"]["value"]
    assert num(tagged[("participations", "13", "2025", "")]) == data["participations"]["value"]
    text = _html.unescape(re.sub(r"<[^>]+>", " ", page))
    words = {"green": "vert", "amber": "orange", "red": "rouge"}
    for status, n in data["actions_by_status"].items():
        if n and status in words:
            assert f"{n} {words[status]}" in text, (status, n)
    assert round(data["ifn"]["value"], 2) == 5.18
