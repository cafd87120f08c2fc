"""Activity indicators on a national bundle against sums computed directly from the records.

The activity indicators read the records once, reduced per commune of residence and period
(issue 9, 10 M records); these expectations are plain pandas sums over the raw records,
rolled up with the territories table's own ``departement_code`` / ``epci_siren`` columns.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fne_eval.evaluate.indicators import indicator_values
from fne_eval.evaluate.national import national_tables

AS_OF = pd.Timestamp("2025-06-30")


@pytest.fixture(scope="module")
def nat():
    tables, _meta = national_tables(5_000, seed=7, compact=True)
    # a few records without a commune of residence (AS_OF also leaves later records out)
    act = tables["activities"].copy()
    codes = act["beneficiary_commune_code"].astype("string")
    codes.iloc[:40] = pd.NA
    act["beneficiary_commune_code"] = codes
    tables["activities"] = act
    return tables


def expected(tables: dict, column: str) -> pd.DataFrame:
    """Participations and records per territory (``column`` of the territories table) and year, by hand."""
    act = tables["activities"]
    act = act[pd.to_datetime(act["date"]) <= AS_OF]
    terr = tables["territories"].astype({"territory_code": "string"})
    units = terr[terr["level"].astype(str).isin(["commune", "arrondissement"])]
    parent = units.set_index("territory_code")[column].astype("string")
    terr_of = act["beneficiary_commune_code"].astype("string").map(parent)
    df = pd.DataFrame({"territory_code": terr_of.to_numpy(), "year": pd.to_datetime(act["date"]).dt.year.to_numpy(),
                       "participants": act["participants"].to_numpy(dtype=float)})
    df = df[df["territory_code"].notna()]
    g = df.groupby(["territory_code", "year"])["participants"]
    return pd.DataFrame({"numerator": g.sum(), "n_obs": g.size()}).reset_index()


@pytest.mark.parametrize("level,column", [("departement", "departement_code"), ("epci", "epci_siren")])
def test_acc_n_is_the_sum_of_participants_of_the_records(nat, level, column):
    cat = pd.DataFrame({"indicator_code": pd.array(["ACC_N"], dtype="string"),
                        "unit": pd.array(["participations"], dtype="string")})
    got = indicator_values(nat, cat, level, period="year", as_of=AS_OF)
    exp = expected(nat, column)
    exp["period"] = exp["year"].astype(str)
    m = got.merge(exp, on=["territory_code", "period"], how="left", suffixes=("", "_exp"))
    assert len(got) == len(got[["territory_code", "period"]].drop_duplicates())
    assert m["numerator_exp"].notna().sum() == len(exp[exp["territory_code"].isin(got["territory_code"])
                                                       & exp["period"].isin(got["period"])])
    np.testing.assert_array_equal(m["numerator"].to_numpy(), m["numerator_exp"].fillna(0).to_numpy())
    np.testing.assert_array_equal(m["n_obs"].to_numpy(), m["n_obs_exp"].fillna(0).astype("int64").to_numpy())
    # every participation up to the date with a known commune is somewhere (one département each)
    if level == "departement":
        assert got["numerator"].sum() == exp["numerator"].sum() > 0
