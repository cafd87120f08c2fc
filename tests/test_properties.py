"""Property tests: figures computed at every level add up (hypothesis-generated bundles).

Additive indicators (counts: lieux, participants, activities, populations, expected and
reporting lieux, exposed population) must satisfy, for every generated bundle:

* commune with arrondissements = sum of its arrondissements + rows keyed by the commune;
* EPCI = sum of its member communes (members outside the département included);
* département = sum of its communes with that ``departement_code``.

Non-additive indicators state their aggregation and are checked against it: rates are
sum(numerator) / sum(denominator) of the parts (never a mean of rates); the IFN mean is a
population-weighted or unweighted mean of the units, as asked.
"""
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fne_eval.evaluate.completeness import reporting_completeness
from fne_eval.evaluate.offer import accompaniments_by_territory, lieux_offer
from fne_eval.core.territory import aggregate, code_membership, population_by_territory

SETTINGS = dict(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EPCIS = ["200000001", "200000002", "200000003"]


@st.composite
def bundles(draw):
    n_epci = draw(st.integers(1, 3))
    epcis = EPCIS[:n_epci]
    n_com = draw(st.integers(1, 6))
    communes = []
    for i in range(n_com):
        dep = draw(st.sampled_from(["13", "13", "13", "84"]))
        communes.append((f"{dep}{100 + i:03d}", dep, draw(st.sampled_from(epcis))))
    n_arr = draw(st.integers(0, 3))
    if n_arr:
        communes.append(("13055", "13", draw(st.sampled_from(epcis))))
    rows = [("13", "D13", "departement", "13", None, None, True)]
    rows += [(e, e, "epci", None, None, None, True) for e in epcis]
    rows += [(c, c, "commune", d, e, None, d == "13") for c, d, e in communes]
    arrs = [f"132{j + 1:02d}" for j in range(n_arr)]
    marseille_epci = communes[-1][2] if n_arr else None
    rows += [(a, a, "arrondissement", "13", marseille_epci, "13055", True) for a in arrs]
    terr = pd.DataFrame(rows, columns=["territory_code", "territory_name", "level", "departement_code",
                                       "epci_siren", "commune_code", "in_scope"])
    units = [c for c, _, _ in communes if c != "13055"] + arrs
    codes = units + (["13055"] if n_arr else [])
    pops = pd.DataFrame({"territory_code": units, "year": 2023,
                         "population": draw(st.lists(st.integers(0, 5000), min_size=len(units),
                                                     max_size=len(units)))})
    n_lieux = draw(st.integers(0, 8))
    lieux = pd.DataFrame({
        "id": [f"L{i}" for i in range(n_lieux)],
        "territory_code": draw(st.lists(st.sampled_from(codes), min_size=n_lieux, max_size=n_lieux)),
        "dispositif_programmes_nationaux": draw(st.lists(
            st.sampled_from([None, "France Services", "Aidants Connect|Conseillers numériques"]),
            min_size=n_lieux, max_size=n_lieux)),
    })
    n_act = draw(st.integers(0, 25))
    acts = pd.DataFrame({
        "activity_id": [f"A{i}" for i in range(n_act)],
        "date": pd.to_datetime(draw(st.lists(st.sampled_from(["2024-02-01", "2024-11-15", "2025-03-03",
                                                              "2025-12-31"]), min_size=n_act, max_size=n_act))),
        "beneficiary_commune_code": pd.array(draw(st.lists(st.sampled_from(codes + [None]), min_size=n_act,
                                                           max_size=n_act)), dtype="string"),
        "lieu_id": pd.array(draw(st.lists(st.sampled_from([f"L{i}" for i in range(max(n_lieux, 1))]),
                                          min_size=n_act, max_size=n_act)), dtype="string"),
        "participants": draw(st.lists(st.integers(1, 20), min_size=n_act, max_size=n_act)),
    })
    exposed = pd.DataFrame({"row_number": [1], "printed_fragile_population": [draw(st.integers(0, 900))],
                            "is_total_row": [False], "territory_code": [draw(st.sampled_from(units))]})
    return {"territories": terr, "populations": pops, "lieux": lieux, "activities": acts,
            "exposed_communes": exposed}


def check_levels_add_up(df, terr, cols, by=()):
    """Assert that every additive column of a level-indexed frame adds up across levels."""
    cm = code_membership(terr)
    by = list(by)
    idx = df.set_index(["level", "territory_code", *by])
    commune = df[df.level == "commune"].merge(cm[["unit_code", "epci_siren", "departement_code"]],
                                              left_on="territory_code", right_on="unit_code", validate="m:1")
    for col in cols:
        # EPCI = sum of its communes; département = sum of its communes
        for key, target in (("epci_siren", "epci"), ("departement_code", "departement")):
            sums = commune.groupby([key, *by])[col].sum()
            for k, v in sums.items():
                kk = k if isinstance(k, tuple) else (k,)
                if (target, *kk) in idx.index:
                    assert idx.loc[(target, *kk), col] == pytest.approx(v), (col, target, kk)
        # commune with arrondissements >= sum of its arrondissements (+ rows keyed 13055)
        arr = df[df.level == "arrondissement"]
        if len(arr) and ("commune", "13055") in df.set_index(["level", "territory_code"]).index:
            a = arr.groupby(by)[col].sum() if by else arr[col].sum()
            c = df[(df.level == "commune") & (df.territory_code == "13055")]
            c = c.set_index(by)[col] if by else c[col].iloc[0]
            if by:
                for k, v in a.items():
                    assert c.loc[k] >= v - 1e-9
            else:
                assert c >= a - 1e-9


@settings(**SETTINGS)
@given(bundles())
def test_aggregate_sum_levels_add_up(b):
    t = b["territories"]
    acts = b["activities"]
    out = aggregate(acts, t, ["participants"], "beneficiary_commune_code",
                    levels=("arrondissement", "commune", "epci", "departement"), complete=True)
    check_levels_add_up(out, t, ["participants"])
    # the département is the sum over its communes' rows; never counts 13055 twice
    located = acts[acts.beneficiary_commune_code.notna()]
    dep_codes = set(t.loc[(t.level.isin(["commune", "arrondissement"])) & (t.departement_code == "13"),
                          "territory_code"])
    expect = located.loc[located.beneficiary_commune_code.isin(dep_codes), "participants"].sum()
    got = out.set_index(["level", "territory_code"]).loc[("departement", "13"), "participants"]
    assert got == expect


@settings(**SETTINGS)
@given(bundles())
def test_population_levels_add_up(b):
    pt = population_by_territory(b["territories"], b["populations"], 2023)
    check_levels_add_up(pt, b["territories"], ["population", "n_units"])
    dep = pt.set_index(["level", "territory_code"]).loc[("departement", "13"), "population"]
    t = b["territories"]
    in13 = set(t.loc[(t.departement_code == "13") & t.level.isin(["commune", "arrondissement"]), "territory_code"])
    pops = b["populations"].loc[b["populations"].territory_code.isin(in13), "population"]
    if pops.notna().any():
        assert dep == pops.sum()
    else:  # no commune of the département has a population (none listed): unknown, not 0 (documented)
        assert pd.isna(dep)


@settings(**SETTINGS)
@given(bundles())
def test_need_offer_levels_add_up(b):
    t = b["territories"]
    lo = lieux_offer(b)
    if len(lo):
        check_levels_add_up(lo, t, ["lieux", "lieux_france_services", "lieux_aidants_connect"])
        # rate = sum(lieux) / sum(population): ratio of additive parts, not a mean of rates
        for _, r in lo.iterrows():
            if pd.notna(r["population"]) and r["population"] > 0:
                assert r["lieux_per_10k"] == pytest.approx(r["lieux"] / r["population"] * 1e4)
    acc = accompaniments_by_territory(b)
    if len(acc):
        check_levels_add_up(acc, t, ["participants", "n_activities", "exposed_population",
                                     "participants_exposed_units"])


@settings(**SETTINGS)
@given(bundles())
def test_completeness_levels_add_up(b):
    r = reporting_completeness(b, period="year")
    if len(r):
        check_levels_add_up(r, b["territories"], ["n_expected", "n_reporting"], by=["period"])
        ok = r["n_expected"] > 0
        assert (r.loc[ok, "reporting_rate_pct"] == r.loc[ok, "n_reporting"] / r.loc[ok, "n_expected"] * 100).all()
        assert r.loc[~ok, "reporting_rate_pct"].isna().all()


@settings(**SETTINGS)
@given(bundles(), st.lists(st.floats(0, 10), min_size=12, max_size=12))
def test_weighted_mean_is_stated_aggregation(b, values):
    t = b["territories"]
    pops = b["populations"].copy()
    pops["ifn"] = values[:len(pops)]
    w = aggregate(pops, t, ["ifn"], "territory_code", levels=("epci",), how="weighted_mean",
                  weight_col="population")
    u = aggregate(pops, t, ["ifn"], "territory_code", levels=("epci",), how="unweighted_mean")
    cm = code_membership(t).set_index("unit_code")
    pops["epci"] = pops["territory_code"].map(cm["epci_siren"])
    for e, g in pops.groupby("epci"):
        assert u.set_index("territory_code").loc[e, "ifn"] == pytest.approx(g["ifn"].mean())
        if g["population"].sum() > 0:
            expect = (g["ifn"] * g["population"]).sum() / g["population"].sum()
            assert w.set_index("territory_code").loc[e, "ifn"] == pytest.approx(expect)
        else:
            assert pd.isna(w.set_index("territory_code").loc[e, "ifn"])


@settings(**SETTINGS)
@given(bundles())
def test_trend_levels_add_up(b):
    from fne_eval.evaluate.impact import trend

    tr = trend(b["activities"], b["territories"], freq="year")
    if len(tr):
        tr = tr.assign(previous_same_perimeter=tr["previous_same_perimeter"].astype("Float64").fillna(0),
                       participants_same_perimeter=tr["participants_same_perimeter"].astype("Float64").fillna(0))
        check_levels_add_up(tr, b["territories"], ["participants", "participants_same_perimeter",
                                                   "previous_same_perimeter", "n_units"], by=["period"])
