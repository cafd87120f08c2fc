"""Tests of fne_eval.evaluate.budget on small inline frames (expected values computed by hand)."""
from decimal import Decimal

import pandas as pd
import pytest

from fne_eval.evaluate.budget import budget_burn, budget_execution, burn_label, sum_decimal, training_fund
from fne_eval.bundle.io import coerce_table
from fne_eval.bundle.spec import TABLES


def typed(name, rows):
    """Return a typed frame of table ``name`` built from a list of dicts."""
    return coerce_table(pd.DataFrame(rows, columns=TABLES[name].column_names), TABLES[name])


@pytest.fixture
def actions():
    return typed("actions", [
        {"action_code": "1.1", "axis_code": "1", "action_title": "A", "referents": "X",
         "start_date": "2024-01-01", "end_date": "2024-12-31", "source": "s"},
        {"action_code": "1.2", "axis_code": "1", "action_title": "B", "referents": "X",
         "start_date": "2025-01-01", "end_date": "2026-12-31", "source": "s"},
        {"action_code": "2.1", "axis_code": "2", "action_title": "C", "referents": "Y",
         "start_date": "2025-01-01", "end_date": "2025-12-31", "source": "s"},
    ])


@pytest.fixture
def lines():
    return typed("budget_lines", [
        {"budget_line_id": "L1", "action_code": "1.1", "line_label": "a", "funder": "État - FNE",
         "recipient": "Métropole", "planned_eur": "1000.00", "source": "s"},
        {"budget_line_id": "L2", "action_code": "1.2", "line_label": "b", "funder": "État - FNE",
         "recipient": "Hub du Sud", "planned_eur": "3 686,00", "source": "s"},
        {"budget_line_id": "L3", "action_code": "2.1", "line_label": "c", "funder": "Région",
         "recipient": "Hub du Sud", "planned_eur": "0.30", "source": "s"},
        {"budget_line_id": "FF", "action_code": None, "line_label": "fonds", "funder": "État - FNE",
         "recipient": "Hub du Sud", "planned_eur": None, "target_departures": "60", "source": "s"},
    ])


@pytest.fixture
def transactions():
    return typed("budget_transactions", [
        {"transaction_id": "T1", "budget_line_id": "L1", "date": "2024-02-01", "kind": "commitment", "amount_eur": "1000.00"},
        {"transaction_id": "T2", "budget_line_id": "L1", "date": "2024-03-01", "kind": "payment", "amount_eur": "400.00"},
        {"transaction_id": "T3", "budget_line_id": "L1", "date": "2025-03-01", "kind": "payment", "amount_eur": "600.00"},
        {"transaction_id": "T4", "budget_line_id": "L2", "date": "2025-02-01", "kind": "commitment", "amount_eur": "1843.00"},
        # three commitments of 0.10 and three payments of 0.20 on L3
        {"transaction_id": "T5", "budget_line_id": "L3", "date": "2025-01-10", "kind": "commitment", "amount_eur": "0.10"},
        {"transaction_id": "T6", "budget_line_id": "L3", "date": "2025-01-11", "kind": "commitment", "amount_eur": "0.10"},
        {"transaction_id": "T7", "budget_line_id": "L3", "date": "2025-01-12", "kind": "commitment", "amount_eur": "0.10"},
        {"transaction_id": "T8", "budget_line_id": "L3", "date": "2025-01-10", "kind": "payment", "amount_eur": "0.20"},
        {"transaction_id": "T9", "budget_line_id": "L3", "date": "2025-01-11", "kind": "payment", "amount_eur": "0.20"},
    ])


def test_sum_decimal_is_exact():
    # (0.10 + 0.20) three times = 0.90 exactly (in floats 0.1+0.2 != 0.3)
    assert sum_decimal([Decimal("0.10"), Decimal("0.20")] * 3) == Decimal("0.90")
    assert sum_decimal([]) == Decimal("0.00")
    assert sum_decimal([None, Decimal("1.50"), pd.NA]) == Decimal("1.50")


def test_execution_by_action(lines, transactions, actions):
    out = budget_execution(lines, transactions, actions, by="action_code").set_index("action_code", drop=False)
    # 1.1: planned 1000, committed 1000, paid 400 + 600 = 1000
    r = out.loc["1.1"]
    assert r["planned_eur"] == Decimal("1000.00") and r["committed_eur"] == Decimal("1000.00")
    assert r["paid_eur"] == Decimal("1000.00") and r["remaining_eur"] == Decimal("0.00")
    assert r["commitment_rate_pct"] == pytest.approx(100.0)
    # 1.2: 1843 / 3686 = 50 % committed, nothing paid; paid/committed = 0 %
    r = out.loc["1.2"]
    assert r["remaining_eur"] == Decimal("1843.00")
    assert r["commitment_rate_pct"] == pytest.approx(50.0)
    assert r["payment_rate_pct"] == pytest.approx(0.0)
    assert r["paid_of_committed_pct"] == pytest.approx(0.0)
    # 2.1: committed 3 × 0.10 = 0.30 exactly, paid 2 × 0.20 = 0.40 > planned 0.30
    r = out.loc["2.1"]
    assert r["committed_eur"] == Decimal("0.30") and isinstance(r["committed_eur"], Decimal)
    assert r["remaining_eur"] == Decimal("0.00")
    assert r["payment_rate_pct"] == pytest.approx(0.40 / 0.30 * 100)
    # the training fund line (no action) is kept with a missing key and no planned amount
    ff = out[out["action_code"].isna()].iloc[0]
    assert ff["planned_eur"] is None
    assert pd.isna(ff["commitment_rate_pct"])  # no denominator: NaN, not inf


def test_execution_as_of_and_totals(lines, transactions, actions):
    out = budget_execution(lines, transactions, actions, by=("axis",), as_of="2024-12-31", totals=True)
    assert list(out["axis_code"].fillna("NA")) == ["1", "2", "NA", "total"]
    ax1 = out[out["axis_code"] == "1"].iloc[0]
    # up to 2024-12-31 only T1 (1000 committed) and T2 (400 paid); planned 1000 + 3686 = 4686
    assert ax1["planned_eur"] == Decimal("4686.00")
    assert ax1["paid_eur"] == Decimal("400.00")
    assert ax1["payment_rate_pct"] == pytest.approx(400 / 4686 * 100)
    tot = out[out["is_total"]].iloc[0]
    # total planned: 1000 + 3686 + 0.30 = 4686.30
    assert tot["planned_eur"] == Decimal("4686.30")
    assert tot["committed_eur"] == Decimal("1000.00")


def test_execution_by_recipient_and_funder(lines, transactions, actions):
    out = budget_execution(lines, transactions, actions, by=("funder", "recipient"))
    r = out[(out["funder"] == "État - FNE") & (out["recipient"] == "Hub du Sud")].iloc[0]
    # L2 (3686) + FF (not costed) -> 3686; committed 1843
    assert r["planned_eur"] == Decimal("3686.00") and r["n_lines"] == 2
    assert r["committed_eur"] == Decimal("1843.00")


def test_execution_unknown_by(lines, transactions, actions):
    with pytest.raises(ValueError, match="unknown budget grouping"):
        budget_execution(lines, transactions, actions, by="commune")


def test_execution_empty_transactions(lines, actions):
    empty = typed("budget_transactions", [])
    out = budget_execution(lines, empty, actions)
    assert (out["committed_eur"] == Decimal("0.00")).all()


def test_burn(lines, transactions, actions):
    out = budget_burn(lines, transactions, actions, as_of="2025-07-02").set_index("action_code")
    # 1.1 over (2024): elapsed 100 %, paid 1000/1000 = 100 % -> ratio 1, conforme
    assert out.loc["1.1", "elapsed_pct"] == pytest.approx(100.0)
    assert out.loc["1.1", "burn_ratio"] == pytest.approx(1.0)
    assert out.loc["1.1", "burn_label"] == "conforme"
    # 1.2: 2025-01-01..2026-12-31 = 730 days; 2025-01-01..2025-07-02 = 183 days -> 25.068 %
    assert out.loc["1.2", "elapsed_pct"] == pytest.approx(183 / 730 * 100)
    assert out.loc["1.2", "burn_ratio"] == pytest.approx(0.0)
    assert out.loc["1.2", "burn_label"] == "en retard"
    # 2.1: 183/365 elapsed = 50.14 %, paid 0.40/0.30 = 133.3 % -> ratio 2.66, en avance
    assert out.loc["2.1", "burn_ratio"] == pytest.approx((40 / 30) / (183 / 365))
    assert out.loc["2.1", "burn_label"] == "en avance"


def test_burn_before_start(lines, transactions, actions):
    out = budget_burn(lines, transactions, actions, as_of="2024-06-01").set_index("action_code")
    # 1.2 starts in 2025: nothing elapsed -> ratio undefined
    assert out.loc["1.2", "elapsed_pct"] == 0
    assert pd.isna(out.loc["1.2", "burn_ratio"]) and pd.isna(out.loc["1.2", "burn_label"])


def test_burn_label_bounds():
    assert burn_label(1.2) == "conforme" and burn_label(0.8) == "conforme"
    assert burn_label(1.21) == "en avance" and burn_label(0.79) == "en retard"
    assert burn_label(float("nan")) is None


def test_training_fund(lines):
    tr = typed("trainings", [
        {"training_id": "F1", "date": "2024-10-01", "training_type": "aidants_connect", "structure_type": "collectivite", "departures": 5, "funded_by_training_fund": "true"},
        {"training_id": "F2", "date": "2025-01-15", "training_type": "aidants_connect", "structure_type": "collectivite", "departures": 7, "funded_by_training_fund": "oui"},
        {"training_id": "F3", "date": "2025-02-15", "training_type": "mediation_numerique", "structure_type": "association", "departures": 8, "funded_by_training_fund": "true"},
        {"training_id": "F4", "date": "2025-02-20", "training_type": "mediation_numerique", "structure_type": "association", "departures": 30, "funded_by_training_fund": "false"},
        {"training_id": "F5", "date": "2026-02-20", "training_type": "autre", "structure_type": "etat", "departures": 4, "funded_by_training_fund": "true"},
    ])
    out = training_fund(lines, tr, as_of="2025-12-31")
    # funded up to 2025-12-31: 5 + 7 + 8 = 20 (F4 not funded, F5 too late); target 60
    tot = out[out["is_total"]].iloc[0]
    assert tot["departures"] == 20 and tot["target_departures"] == 60 and tot["remaining"] == 40
    assert tot["share_achieved_pct"] == pytest.approx(20 / 60 * 100)
    ac = out[(out["training_type"] == "aidants_connect")].iloc[0]
    assert ac["departures"] == 12 and ac["share_of_departures_pct"] == pytest.approx(60.0)
    assert len(out) == 3


def test_training_fund_default_target_and_empty():
    lines = typed("budget_lines", [])
    out = training_fund(lines, typed("trainings", []))
    tot = out.iloc[0]
    # no line gives a target: the seed's 60 minimum; no departure: remaining 60, 0 %
    assert tot["target_departures"] == 60 and tot["remaining"] == 60 and tot["departures"] == 0
    assert tot["share_achieved_pct"] == 0.0
    with pytest.raises(ValueError):
        training_fund(lines, typed("trainings", []), by="commune_code")


def test_subset_of_lines_ignores_other_transactions(lines, transactions, actions):
    # only L1: the transactions of L2 and L3 are left out; L1 paid 400 + 600 = 1000
    out = budget_execution(lines[lines["budget_line_id"] == "L1"], transactions, actions, totals=True)
    tot = out[out["is_total"]].iloc[0]
    assert tot["paid_eur"] == Decimal("1000.00") and tot["committed_eur"] == Decimal("1000.00")


def test_uncosted_line_does_not_inflate_rates(lines, actions):
    tx = typed("budget_transactions", [
        {"transaction_id": "C1", "budget_line_id": "L1", "date": "2024-02-01", "kind": "commitment", "amount_eur": "500.00"},
        {"transaction_id": "C2", "budget_line_id": "FF", "date": "2024-02-01", "kind": "commitment", "amount_eur": "9000.00"},
    ])
    out = budget_execution(lines, tx, actions, by="funder", totals=True)
    tot = out[out["is_total"]].iloc[0]
    # committed shows every line: 500 + 9 000 = 9 500; the rate only the costed ones:
    # 500 / (1 000 + 3 686 + 0.30) = 10.67 %, remaining 4 686.30 − 500 = 4 186.30
    assert tot["committed_eur"] == Decimal("9500.00")
    assert tot["commitment_rate_pct"] == pytest.approx(500 / 4686.30 * 100)
    assert tot["remaining_eur"] == Decimal("4186.30")
