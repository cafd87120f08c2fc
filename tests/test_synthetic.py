"""Tests of the seeded synthetic monitoring generator (fne_eval.build.synthetic).

Expected values are hand-computed from the generator's documented model (module
docstring) or come from the roadmap (seed) and the reference data files, never from the
generator's own output.
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from fne_eval.bundle.io import coerce_table, write_bundle
from fne_eval.bundle.load import load_bundle
from fne_eval.bundle.spec import ROADMAP_START, TABLES
from fne_eval.build import synthetic as syn
from fne_eval.core.paths import REFERENCE_DIR, SAMPLES_DIR

AS_OF = "2026-10-31"


# --------------------------------------------------------------------------- inputs
def _typed(name, rows):
    df = pd.DataFrame(rows)
    for c in TABLES[name].column_names:
        if c not in df.columns:
            df[c] = None
    return coerce_table(df[TABLES[name].column_names], TABLES[name])


def raw_reference_tables() -> dict:
    """Build typed input tables from the raw reference CSVs and the lieux sample.

    A stand-in for ``build_default.build_reference_tables()`` plus the roadmap CSVs, made
    independently: actions, budget lines (Annexe 6 amounts) and a few chronogramme
    tasks are typed here from the seed.
    """
    communes = pd.read_csv(REFERENCE_DIR / "communes_13.csv", dtype=str)
    arr = pd.read_csv(REFERENCE_DIR / "arrondissements_marseille.csv", dtype=str)
    epci = pd.read_csv(REFERENCE_DIR / "epci_13.csv", dtype=str)
    members = pd.read_csv(REFERENCE_DIR / "epci_membres_13.csv", dtype=str)
    outside = members[members["departement"] != "13"]
    src = "fne_eval/data/reference"
    terr = [{"territory_code": "13", "territory_name": "Bouches-du-Rhône", "level": "departement",
             "in_scope": True, "source": src}]
    terr += [{"territory_code": r.epci_siren, "territory_name": r.epci_nom, "level": "epci",
              "in_scope": True, "source": src} for r in epci.itertuples()]
    terr += [{"territory_code": r.code_insee, "territory_name": r.nom, "level": "commune",
              "departement_code": "13", "epci_siren": r.epci_siren, "in_scope": True, "source": src}
             for r in communes.itertuples()]
    terr += [{"territory_code": r.code_insee, "territory_name": r.nom, "level": "commune",
              "departement_code": r.departement, "epci_siren": r.epci_siren, "in_scope": False, "source": src}
             for r in outside.itertuples()]
    terr += [{"territory_code": r.code_insee, "territory_name": r.nom, "level": "arrondissement",
              "departement_code": "13", "epci_siren": r.epci_siren, "commune_code": "13055",
              "in_scope": True, "source": src} for r in arr.itertuples()]
    pops = []
    for df in (communes, arr):
        for y in (2021, 2022, 2023):
            pops += [{"territory_code": c, "year": y, "population": p, "source": src}
                     for c, p in zip(df["code_insee"], df[f"pop_mun_{y}"])]
    ifn = pd.read_csv(REFERENCE_DIR / "ifn_13.csv", dtype=str)
    ifn = ifn.rename(columns={"code": "territory_code", "total": "ifn_total"})
    ifn = ifn[ifn["territory_code"].isin({t["territory_code"] for t in terr})]
    ifn = ifn.assign(variant="tout_age", vintage="2021", source=src)
    lieux = pd.read_csv(SAMPLES_DIR / "lieux_mediation_numerique_13_hubdusud_2023.csv", dtype=str)
    lieux = lieux[lieux["derive_code_insee_arm"].notna()]
    lieux = lieux.assign(territory_code=lieux["derive_code_insee_arm"])
    lieux = lieux[["id", "nom", "commune", "code_postal", "code_insee", "territory_code", "date_maj"]]
    actions = [
        ("1.1", "1", "2023-11-01", "2024-09-30"), ("1.2", "1", "2024-12-01", "2027-12-31"),
        ("1.3", "1", "2025-01-01", "2027-12-31"), ("1.4", "1", "2025-01-01", "2027-12-31"),
        ("1.5", "1", "2025-01-01", "2027-12-31"), ("2.1", "2", "2024-10-01", "2027-12-31"),
        ("3.1", "3", "2024-10-01", "2025-10-31"), ("3.2", "3", "2025-04-01", "2026-06-30"),
        ("4.1", "4", "2025-01-01", "2027-12-31"), ("4.2", "4", "2025-01-01", "2027-12-31"),
    ]
    actions = [{"action_code": a, "axis_code": x, "action_title": f"Action {a}", "referents": "Hub du Sud",
                "start_date": s, "end_date": e, "source": "seed"} for a, x, s, e in actions]
    amounts = {"1.1": "6000", "1.2": "3686", "1.3": "1584", "1.4": "2975", "1.5": "1950", "2.1": "20557",
               "3.1": "11219", "3.2": "11418", "4.1": "9272", "4.2": "2772"}
    lines = [{"budget_line_id": f"BL-{a}", "action_code": a, "line_label": f"Action {a}",
              "funder": "État - FNE", "recipient": "Hub du Sud", "planned_eur": v, "source": "Annexe 6"}
             for a, v in amounts.items()]
    lines.append({"budget_line_id": "BL-FF", "line_label": "Fonds de formation FNE", "funder": "État - FNE",
                  "recipient": "Hub du Sud", "target_departures": 60, "source": "Annexe 6"})
    tasks = [
        ("T1.2-1", "1.2", "2025-01-01", "2025-03-31"), ("T1.2-2", "1.2", "2025-01-01", "2025-03-31"),
        ("T1.2-3", "1.2", "2025-03-01", "2025-06-30"), ("T1.2-4", "1.2", "2025-01-01", "2025-12-31"),
        ("T1.2-5", "1.2", "2025-03-01", "2025-12-31"), ("T1.2-6", "1.2", "2025-10-01", "2025-12-31"),
        ("T2.1-1", "2.1", "2024-10-01", "2025-03-31"), ("T2.1-2", "2.1", "2025-01-01", "2025-06-30"),
        ("T2.1-3", "2.1", "2025-04-01", "2025-06-30"), ("T2.1-4", "2.1", "2025-06-01", "2025-12-31"),
        ("T2.1-5", "2.1", "2025-09-01", "2025-12-31"), ("T2.1-6", "2.1", "2025-07-01", "2026-06-30"),
        ("T2.1-7", "2.1", "2025-09-01", "2026-12-31"),
    ]
    tasks = [{"task_id": t, "action_code": a, "task_label": t, "planned_start": s, "planned_end": e,
              "source": "Annexe 5"} for t, a, s, e in tasks]
    exposed = ["13215", "13214", "13203", "13004", "13077", "13108", "13014", "13216", "13100", "13078",
               "13080", "13027", "13096", "13067", "13072", "13034", "13048", "13079", "13088", "13094",
               "13111", "13099", "13011"]
    exp = [{"row_number": i + 1, "printed_name": c, "printed_population": 1, "printed_ifn": 6.0,
            "printed_fragile_population": 1, "printed_share_pct": 30.0, "is_total_row": False,
            "territory_code": c} for i, c in enumerate(exposed)]
    exp.append({"row_number": 24, "printed_name": "Moyenne département", "printed_population": 362366,
                "printed_ifn": 5.2, "printed_fragile_population": 118010, "printed_share_pct": 33.0,
                "is_total_row": True})
    return {
        "territories": _typed("territories", terr), "populations": _typed("populations", pops),
        "ifn": _typed("ifn", ifn.to_dict("records")), "lieux": _typed("lieux", lieux.to_dict("records")),
        "actions": _typed("actions", actions), "budget_lines": _typed("budget_lines", lines),
        "schedule_tasks": _typed("schedule_tasks", tasks), "exposed_communes": _typed("exposed_communes", exp),
    }


@pytest.fixture(scope="module")
def tables():
    return raw_reference_tables()


@pytest.fixture(scope="module")
def monitoring(tables):
    return syn.generate_monitoring(tables, seed=20241, as_of=AS_OF)


# --------------------------------------------------------------------------- tests
def test_determinism_same_seed_equal_other_seed_differs(tables):
    a = syn.generate_monitoring(tables, seed=7, as_of="2025-12-31", scale=0.3)
    b = syn.generate_monitoring(tables, seed=7, as_of="2025-12-31", scale=0.3)
    c = syn.generate_monitoring(tables, seed=8, as_of="2025-12-31", scale=0.3)
    for name in syn.MONITORING_TABLES:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["activities"].equals(c["activities"])
    assert not a["budget_transactions"].equals(c["budget_transactions"])


def test_every_frame_has_spec_columns_and_roundtrips_through_a_bundle(monitoring, tmp_path):
    assert set(monitoring) == set(syn.MONITORING_TABLES)
    for name, df in monitoring.items():
        assert list(df.columns) == TABLES[name].column_names, name
        assert len(df) > 0, name
    small = {k: (v.head(500) if k == "activities" else v) for k, v in monitoring.items()}
    write_bundle(small, tmp_path / "b")
    loaded = load_bundle(tmp_path / "b", validate=False)
    for name, df in small.items():
        # same values and the same dtypes as the bundle loader gives
        pd.testing.assert_frame_equal(loaded[name], df.reset_index(drop=True), check_dtype=True, obj=name)


def test_categorical_values_keys_and_codes_are_valid(monitoring, tables):
    for name, df in monitoring.items():
        table = TABLES[name]
        assert not df.duplicated(list(table.key)).any(), name
        for col in table.columns:
            s = df[col.name]
            if col.required:
                assert s.notna().all(), (name, col.name)
            if col.allowed:
                values = s.dropna()
                if col.kind == "list":
                    values = values.str.split("|").explode()
                assert set(values) <= set(col.allowed), (name, col.name)
            if col.pattern:
                assert s.dropna().str.fullmatch(col.pattern[1:-1]).all(), (name, col.name)
            if col.min is not None and col.kind in ("int", "float"):
                assert (s.dropna() >= col.min).all(), (name, col.name)
    act = monitoring["activities"]
    local = set(tables["territories"].query("level in ['commune', 'arrondissement']")["territory_code"])
    assert set(act["beneficiary_commune_code"].dropna()) <= local
    assert set(act["lieu_id"]) <= set(tables["lieux"]["id"])
    assert act["mediator_id"].str.fullmatch(r"M\d{4,}").all()
    for name in ("trainings", "refurbishment"):
        assert set(monitoring[name]["commune_code"].dropna()) <= local
    assert set(monitoring["events"]["venue_commune_code"]) <= local


def test_dates_within_period(monitoring):
    as_of = pd.Timestamp(AS_OF)
    act = monitoring["activities"]
    assert act["date"].min() >= pd.Timestamp("2024-01-01")
    assert act["date"].max() <= as_of
    # no activity on Sundays or on 14 July / 25 December
    assert (act["date"].dt.day_of_week < 6).all()
    assert not act["date"].isin(pd.to_datetime(["2024-07-14", "2025-12-25", "2025-05-01"])).any()
    for name, table in TABLES.items():
        if name not in monitoring:
            continue
        for col in table.columns:
            if col.kind == "date":
                s = monitoring[name][col.name].dropna()
                assert (s >= pd.Timestamp(ROADMAP_START)).all() and (s <= as_of).all(), (name, col.name)


def test_activity_shape_is_realistic(monitoring):
    act = monitoring["activities"]
    coll = act["activity_type"] == "collectif"
    assert 0.15 < coll.mean() < 0.25  # about 20 % collective (Beta(2, 8) mean 0.2)
    assert (act.loc[~coll, "participants"] == 1).all()
    assert act.loc[coll, "participants"].between(3, 15).all()
    assert set(act["duration_min"]) <= {15, 30, 45, 60, 90, 120}
    n_themes = act["themes"].str.count(r"\|") + 1
    assert n_themes.between(1, 3).all()
    # themes are distinct within a record
    assert (act["themes"].str.split("|").map(lambda x: len(set(x)) == len(x))).all()
    themes = act["themes"].str.split("|").explode().value_counts()
    assert set(themes.index[:2]) == {"aide_aux_demarches_administratives", "prendre_en_main_du_materiel"}
    assert not act.loc[act["date"] < "2025-05-01", "themes"].str.contains("associations").any()
    assert (act["place_type"] == "lieu_activite").mean() > 0.75
    # benefiiciary commune: the lieu's own for about 82 %
    assert act["beneficiary_commune_code"].isna().mean() == pytest.approx(0.03, abs=0.01)
    # status follows age: 70+ mostly retired (0.88 per STATUS_BY_AGE)
    old = act[act["age_band"] == "soixante_dix_plus"]
    assert (old["social_status"] == "retraite").mean() == pytest.approx(0.88, abs=0.03)


def test_seniors_more_frequent_where_older_65_rate_is_high(tables, monitoring):
    act = monitoring["activities"]
    ifn = tables["ifn"].set_index("territory_code")["older_65_rate"]
    lieu_code = tables["lieux"].set_index("id")["territory_code"]
    rate = act["lieu_id"].map(lieu_code).map(ifn)
    senior = act["age_band"].isin(["soixante_soixante_neuf", "soixante_dix_plus"])
    high, low = senior[rate >= 6].mean(), senior[rate <= 4].mean()
    assert high > low + 0.05


def test_reporting_completeness_is_measurable_and_below_100(monitoring, tables):
    act = monitoring["activities"]
    n_lieux = len(tables["lieux"])
    per_month = act.groupby(act["date"].dt.to_period("M"))["lieu_id"].nunique() / n_lieux
    assert per_month.max() < 1.0
    assert per_month.loc["2024-01"] < per_month.loc["2025-10"]  # onboarding over time
    assert per_month.loc["2025-10"] > 0.6


def test_seasonality_per_reporting_lieu_matches_design(tables):
    # 2024 only, no exposed effect; October vs August in the same year
    act = syn.generate_activities(tables["lieux"], tables["territories"], tables["populations"], tables["ifn"],
                                  n=200_000, start="2024-01-01", end="2024-12-31", rng=3, exposed_effect=0.0)
    counts = act.groupby(["lieu_id", act["date"].dt.month]).size().unstack(fill_value=0)

    def ratio(m1, m2):
        # records of the same lieux (those reporting in both months), month m1 over m2
        both = counts[(counts[m1] > 0) & (counts[m2] > 0)]
        return both[m1].sum() / both[m2].sum()

    # designed: Aug / Oct = (0.45 / 1.15) * exp(0.20 * (-2 / 12)) = 0.3913 * 0.9672 = 0.3785
    assert ratio(8, 10) == pytest.approx(0.3785, rel=0.05)
    # Jul / Jun = (0.75 / 1.00) * exp(0.20 / 12) = 0.75 * 1.0168 = 0.7626
    assert ratio(7, 6) == pytest.approx(0.7626, rel=0.05)
    # Dec / Nov = (0.80 / 1.10) * exp(0.20 / 12) = 0.7273 * 1.0168 = 0.7395
    assert ratio(12, 11) == pytest.approx(0.7395, rel=0.05)


def test_exposed_effect_switch_moves_growth_ratio(tables):
    exposed = syn.exposed_territory_codes(tables["exposed_communes"])
    lieu_code = tables["lieux"].set_index("id")["territory_code"]

    def growth_ratio(effect):
        act = syn.generate_activities(tables["lieux"], tables["territories"], tables["populations"],
                                      tables["ifn"], n=150_000, rng=11, exposed_codes=exposed,
                                      exposed_start="2025-01-01", exposed_effect=effect)
        is_exp = act["lieu_id"].map(lieu_code).isin(exposed)
        year = act["date"].dt.year
        g = act.groupby([is_exp, year]).size()
        return (g[(True, 2026)] / g[(True, 2024)]) / (g[(False, 2026)] / g[(False, 2024)])

    r0, r2 = growth_ratio(0.0), growth_ratio(0.2)
    # same seed, same lieux: with effect 0.2 the exposed lieux' 2026 volume is multiplied by
    # about exp(0.2 * 1.5) = 1.35 relative to the others (mid-2026 is 1.5 years after start)
    assert r2 / r0 == pytest.approx(np.exp(0.2 * 1.5), rel=0.08)
    assert r0 == pytest.approx(1.0, abs=0.15)


def test_derived_volume_follows_lieux_and_scale(tables):
    args = (tables["lieux"], tables["territories"], tables["populations"], tables["ifn"])
    a = syn.generate_activities(*args, start="2024-01-01", end="2024-12-31", rng=1, scale=1.0)
    b = syn.generate_activities(*args, start="2024-01-01", end="2024-12-31", rng=1, scale=2.0)
    # 225 lieux x 12 months x 6 records x reporting share (~0.84 x onboarding ~0.8) ~ 13 000
    assert 8_000 < len(a) < 20_000
    assert len(b) / len(a) == pytest.approx(2.0, rel=0.02)


def test_exact_n_and_empty_inputs(tables):
    args = (tables["lieux"], tables["territories"], tables["populations"], tables["ifn"])
    assert len(syn.generate_activities(*args, n=1234, rng=5)) == 1234
    empty = syn.generate_activities(tables["lieux"].head(0), tables["territories"], n=10, rng=5)
    assert list(empty.columns) == TABLES["activities"].column_names and len(empty) == 0
    out = syn.generate_monitoring({}, seed=1)
    assert len(out["activities"]) == 0 and len(out["budget_transactions"]) == 0
    assert len(out["events"]) > 0  # events and meetings do not depend on inputs
    with pytest.raises(ValueError):
        syn.generate_activities(*args, n=-1)
    with pytest.raises(ValueError):
        syn.generate_monitoring({}, as_of="2023-06-30")


def test_budget_payments_le_commitments_le_planned(monitoring, tables):
    tx = monitoring["budget_transactions"]
    assert all(isinstance(v, Decimal) and v == v.quantize(Decimal("0.01")) for v in tx["amount_eur"])
    lines = tables["budget_lines"].set_index("budget_line_id")
    committed = {k: sum(g["amount_eur"], Decimal(0))
                 for k, g in tx[tx["kind"] == "commitment"].groupby("budget_line_id")}
    paid = {k: sum(g["amount_eur"], Decimal(0)) for k, g in tx[tx["kind"] == "payment"].groupby("budget_line_id")}
    for line_id, line in lines.iterrows():
        c, p = committed.get(line_id, Decimal(0)), paid.get(line_id, Decimal(0))
        assert p <= c, line_id
        if line["planned_eur"] is not None:
            assert c <= line["planned_eur"], line_id
    # action 1.1: 6 000,00 EUR planned (Annexe 6), fully committed and paid in 2024
    t11 = tx[tx["action_code"] == "1.1"]
    assert committed["BL-1.1"] == paid["BL-1.1"] == Decimal("6000.00")
    assert (t11["date"].dt.year == 2024).all()
    rates = {k: committed.get(k, Decimal(0)) / lines.loc[k, "planned_eur"] for k in amounts_lines(lines)}
    assert sum(r == 1 for r in rates.values()) >= 3  # some lines fully committed
    assert min(rates.values()) < Decimal("0.86")  # one under-committed
    assert any(k not in paid for k in rates)  # some lines not paid yet
    # every payment follows a commitment of its line
    first_c = tx[tx["kind"] == "commitment"].groupby("budget_line_id")["date"].min()
    pays = tx[tx["kind"] == "payment"]
    assert (pays["date"].values > pays["budget_line_id"].map(first_c).values).all()
    assert tx["reference"].str.fullmatch(r"(CONV-\d{4}-\d{2}|MAND-\d{4}-\d{3})").all()


def amounts_lines(lines):
    return [k for k, v in lines["planned_eur"].items() if v is not None]


def test_training_fund_below_objective_and_paid_per_departure(monitoring):
    tr = monitoring["trainings"]
    fund = tr[tr["funded_by_training_fund"]]
    assert 0 < fund["departures"].sum() < 60  # objective 60 (Annexe 6) not yet reached
    assert tr["date"].min() >= pd.Timestamp("2024-09-01")
    assert (~tr["funded_by_training_fund"]).any()
    tx = monitoring["budget_transactions"]
    fund_tx = tx[tx["budget_line_id"] == "BL-FF"]
    assert fund_tx.loc[fund_tx["kind"] == "commitment", "amount_eur"].sum() == Decimal("27000.00")
    paid = sum(fund_tx.loc[fund_tx["kind"] == "payment", "amount_eur"], Decimal(0))
    # 450 EUR per fund departure; departures of the last quarter may not be paid yet
    assert paid % Decimal("450.00") == 0
    assert paid <= Decimal("450.00") * int(fund["departures"].sum())


def test_refurbishment_funnel(monitoring):
    rf = monitoring["refurbishment"]
    assert (rf["devices_distributed"] <= rf["devices_refurbished"]).all()
    assert (rf["devices_refurbished"] <= rf["devices_collected"]).all()
    assert rf["period_start"].min() >= pd.Timestamp("2025-03-01")
    assert (rf["period_start"].dt.day == 1).all()
    assert 3 <= rf["operator"].nunique() <= 5
    assert set(rf["operator"]) <= {"La Verrerie", "Eva 3D", "Ecodair", "Emmaüs Connect", "Anonymal"}


def test_events_and_meetings(monitoring):
    ev = monitoring["events"]
    clics = ev[ev["title"].str.startswith("Des Clics et des Livres")]
    assert list(clics["date"].dt.strftime("%Y-%m")) == ["2024-10", "2025-10"]
    assert (clics["action_code"] == "3.1").all()
    tour = ev[ev["event_type"] == "exposition"].sort_values("date")
    assert tour.iloc[0]["venue_commune_code"] == "13001"  # the tour starts at Aix-en-Provence
    assert (tour["action_code"] == "3.2").all()
    assert (ev["participants"] < 5).any()
    assert (ev.loc[ev["event_type"] == "journee_echanges", "action_code"] == "1.2").all()
    mt = monitoring["network_meetings"]
    assert pd.Timestamp("2023-11-23") in set(mt.loc[mt["meeting_type"] == "copil", "date"])
    assert {"1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "4.1", "4.2"} <= set(mt["action_code"])
    cells = mt[[c for c in mt.columns if c.startswith("participants_")]].to_numpy()
    assert ((cells >= 0) & (cells < 5)).any()


def test_schedule_status_has_every_case(monitoring, tables):
    st = monitoring["schedule_status"]
    tasks = tables["schedule_tasks"].set_index("task_id")
    last = st.sort_values("status_date").groupby("task_id").last()
    assert set(last.index) == set(tasks.index)
    assert (last["status"] == "not_started").sum() >= 1
    done = last[last["status"] == "done"]
    slip = (done["actual_end"] - tasks.loc[done.index, "planned_end"]).dt.days
    assert (slip <= -28).any()  # one done at least a month early
    assert (slip >= 28).any() or ((last["status"] == "in_progress")
                                  & (tasks.loc[last.index, "planned_end"] < pd.Timestamp(AS_OF))).any()
    started = last.dropna(subset=["actual_start"])
    late_start = (started["actual_start"] - tasks.loc[started.index, "planned_start"]).dt.days
    assert (late_start >= 28).any()  # some tasks late by a month or more
    assert (late_start <= 10).any()  # some on time
    # quarter-end status dates, progress within bounds, done = 100
    assert st["status_date"].dt.is_quarter_end.all()
    assert st["progress_pct"].between(0, 100).all()
    assert (st.loc[st["status"] == "done", "progress_pct"] == 100).all()
    assert st.loc[st["status"] == "done", "actual_end"].notna().all()


def test_no_personal_data(monitoring):
    text = pd.concat([df.select_dtypes(include=["string", "object"]).astype(str).stack()
                      for df in monitoring.values()])
    assert not text.str.contains(r"@|\+33|\b0[1-9](?:[ .]?\d{2}){4}\b", regex=True).any()


def test_speed_smoke_200k_rows(tables):
    act = syn.generate_activities(tables["lieux"], tables["territories"], tables["populations"],
                                  tables["ifn"], n=200_000, rng=2)
    assert len(act) == 200_000
    assert act["activity_id"].is_unique
    assert act["date"].is_monotonic_increasing


def test_end_to_end_on_the_real_reference_and_roadmap_tables(tmp_path):
    """Generate from the builders' real tables, write a bundle and validate it at the door."""
    bd = pytest.importorskip("fne_eval.build.default_bundle")
    validate = pytest.importorskip("fne_eval.bundle.validate")
    tables = bd.build_reference_tables()
    tables.update(bd.build_roadmap_tables())
    tables["lieux"], _ = bd.build_lieux()
    out = syn.generate_monitoring(tables, seed=20241, as_of=AS_OF, scale=0.2)
    for name, df in out.items():
        assert list(df.columns) == TABLES[name].column_names
        assert len(df) > 0, name
    # every task of the roadmap's chronogramme has a status if it is due by as_of
    due = tables["schedule_tasks"].loc[tables["schedule_tasks"]["planned_start"] <= pd.Timestamp(AS_OF), "task_id"]
    assert set(due) <= set(out["schedule_status"]["task_id"])
    # Annexe 6: 10 action lines, total 71 433 EUR; commitments never exceed it
    committed = sum(out["budget_transactions"].query("kind == 'commitment' and action_code.notna()")["amount_eur"],
                    Decimal(0))
    assert Decimal("0") < committed <= Decimal("71433.00")
    # the exposed communes resolved by the builder carry lieux with activity
    exposed = syn.exposed_territory_codes(tables["exposed_communes"])
    lieu_code = tables["lieux"].set_index("id")["territory_code"]
    assert out["activities"]["lieu_id"].map(lieu_code).isin(exposed).any()
    write_bundle({**tables, **out}, tmp_path / "bundle", meta={"is_synthetic": True})
    result = validate.validate_bundle(tmp_path / "bundle")
    assert result.valid, [validate.format_error(e) for e in result.errors[:5]]


def test_synthetic_lieux_follow_population(tables):
    lieux = syn.synthetic_lieux(tables["territories"], tables["populations"], rng=4)
    assert list(lieux.columns) == TABLES["lieux"].column_names
    assert lieux["id"].is_unique
    # Bouches-du-Rhône units, latest millésime (2023): 2 087 658 inhabitants / 9 238 = 226 lieux
    # expected (Poisson total, sd ~ 15)
    assert 180 < len(lieux) < 270
    marseille = lieux["territory_code"].str.startswith("132").sum()
    # Marseille's arrondissements hold 886 040 / 2 087 658 = 42 % of the population
    assert marseille / len(lieux) == pytest.approx(0.42, abs=0.1)
    act = syn.generate_activities(lieux, tables["territories"], tables["populations"], tables["ifn"], n=5000, rng=4)
    assert len(act) == 5000 and set(act["lieu_id"]) <= set(lieux["id"])


def test_compact_mode_gives_the_same_values(tables):
    args = (tables["lieux"], tables["territories"], tables["populations"], tables["ifn"])
    a = syn.generate_activities(*args, n=3000, rng=9)
    b = syn.generate_activities(*args, n=3000, rng=9, compact=True)
    assert isinstance(b["themes"].dtype, pd.CategoricalDtype)
    pd.testing.assert_frame_equal(a, b.astype({c: "string" for c in b.columns if b[c].dtype == "category"}))


def test_earlier_as_of_is_a_cut_of_the_same_history(tables):
    full = syn.generate_monitoring(tables, seed=5, as_of=AS_OF, scale=0.05)
    cut = syn.generate_monitoring(tables, seed=5, as_of="2025-06-30", scale=0.05)
    for name in ("trainings", "events", "network_meetings"):
        expected = full[name][full[name]["date"] <= pd.Timestamp("2025-06-30")].reset_index(drop=True)
        pd.testing.assert_frame_equal(cut[name], expected, obj=name)
    fund = cut["trainings"].query("funded_by_training_fund")["departures"].sum()
    assert 0 < fund < full["trainings"].query("funded_by_training_fund")["departures"].sum()


def test_a_few_double_entries(tables):
    act = syn.generate_activities(tables["lieux"], tables["territories"], tables["populations"], tables["ifn"],
                                  n=40_000, rng=6)
    cols = [c for c in TABLES["activities"].column_names if c != "activity_id"]
    n_dup = act.duplicated(cols).sum()
    # 0.05 % of 40 000 = 20 copies, plus rare accidental coincidences
    assert 20 <= n_dup <= 30


def test_beneficiaries_come_from_the_lieu_unit_or_its_neighbourhood(monitoring, tables):
    act = monitoring["activities"]
    terr = tables["territories"].set_index("territory_code")
    lieu_code = act["lieu_id"].map(tables["lieux"].set_index("id")["territory_code"])
    known = act["beneficiary_commune_code"].notna()
    same = (act["beneficiary_commune_code"] == lieu_code).fillna(False).astype(bool)
    # 82 % same unit by design, plus draws of the own unit among the 15 % (population-weighted)
    assert 0.82 <= (same & known).sum() / len(act) <= 0.97
    # Marseille arrondissements' other beneficiaries live in Marseille's arrondissements
    in_marseille = lieu_code.str.startswith("132").astype(bool)
    marseille = in_marseille & known & ~same
    assert act.loc[marseille, "beneficiary_commune_code"].str.startswith("132").all()
    # elsewhere: same EPCI
    other = ~in_marseille & known & ~same
    epci = terr["epci_siren"]
    assert (act.loc[other, "beneficiary_commune_code"].map(epci).to_numpy()
            == lieu_code[other].map(epci).to_numpy()).all()
