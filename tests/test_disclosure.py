"""Tests of fne_eval.store.disclosure: primary and complementary suppression."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fne_eval.store.disclosure import (
    _lines,
    protection_problems,
    recomputable,
    suppress,
    suppress_long,
)


def test_primary_and_secondary_with_printed_totals():
    t = pd.DataFrame({"epci": ["A", "B", "C"], "f": [12, 3, 20], "h": [9, 8, 0], "nc": [6, 7, 1]})
    r = suppress(t, row_total="total", col_total="Total")
    v = r.values.set_index("epci")
    # primary: B.f = 3 and C.nc = 1 (0 < n < 5); 0 in C.h is published
    assert r.reason.loc[1, "f"] == "primary" and r.reason.loc[2, "nc"] == "primary"
    assert v.loc["C", "h"] == 0
    # row B has one hidden cell: its smallest other non-zero cell 7 (nc) is hidden too;
    # row C: smallest non-zero other than the 0 is 20 (f) -> hidden
    assert r.is_suppressed.loc[1, "nc"] and r.is_suppressed.loc[2, "f"]
    # columns f and nc now hold 2 hidden cells each -> fixed point, 4 hidden in all
    assert int(r.is_suppressed[["f", "h", "nc", "total"]].to_numpy().sum()) == 4
    # totals recomputed: 12+3+20 = 35; 27 = 12+9+6; grand total 66
    assert v.loc["Total", "f"] == 35 and v.loc["A", "total"] == 27 and v.loc["Total", "total"] == 66
    d = r.display().set_index("epci")
    assert d.loc["B", "f"] == "< 5" and d.loc["C", "h"] == "0"
    assert r.display("s").set_index("epci").loc["B", "f"] == "s"
    assert r.n_primary == 2 and r.n_secondary == 2


def test_hidden_value_is_na_never_zero():
    r = suppress(pd.DataFrame({"n": [3, 10, 12]}))
    assert pd.isna(r.values.loc[0, "n"])
    # one column: column margin 25 known -> 3 alone could be recomputed -> 10 hidden too
    assert r.is_suppressed["n"].tolist() == [True, True, False]


def test_all_cells_below_threshold():
    t = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    r = suppress(t, row_total="total", col_total="Total")
    # totals: rows 3, 7; cols 4, 6; grand 10 -> only 7, 6 and 10 publishable.
    # row 1 (3, 4 | 7): hidden cells 2 -> ok; total column (3, 7 | 10): 3 hidden -> 7 hidden
    vals = r.values
    assert vals[["a", "b"]].isna().all().all()
    assert protection_problems(vals, r.is_suppressed, ["a", "b", "total"]) == []


def test_single_cell():
    assert suppress(pd.DataFrame({"n": [4]})).is_suppressed["n"].tolist() == [True]
    assert suppress(pd.DataFrame({"n": [5]})).is_suppressed["n"].tolist() == [False]
    assert suppress(pd.DataFrame({"n": [0]})).is_suppressed["n"].tolist() == [False]


def test_empty_table():
    r = suppress(pd.DataFrame({"epci": pd.Series([], dtype="string"), "n": pd.Series([], dtype="int64")}))
    assert r.values.empty and list(r.values.columns) == ["epci", "n"]


def test_threshold_and_bad_values():
    t = pd.DataFrame({"n": [7, 12]})
    r = suppress(t, threshold=11)
    assert r.is_suppressed["n"].tolist() == [True, True]  # 7 < 11; 12 is its complement
    with pytest.raises(ValueError):
        suppress(t, threshold=0)
    with pytest.raises(ValueError):
        suppress(pd.DataFrame({"n": [-1]}))
    with pytest.raises(ValueError):
        suppress(pd.DataFrame({"n": [1.5]}))
    with pytest.raises(ValueError):
        suppress(t, count_cols=["x"])
    with pytest.raises(ValueError):
        suppress(t).display(symbol="x")


def test_bridge_cell_gets_extra_complement():
    # Two 2x2 blocks of small cells (rows 0-1 x cols 0-1, rows 2-3 x cols 2-3) joined by a
    # small cell (1, 2): every line holds 0 or >= 2 hidden cells, yet (1, 2) is a bridge:
    # (row 0 + row 1) - (col 0 + col 1) equations give it exactly. The audit adds one
    # more complement in row 1 (smallest free non-zero: (1, 3) = 50).
    m = np.full((4, 4), 50)
    small = [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 2), (2, 3), (3, 2), (3, 3)]
    for i, j in small:
        m[i, j] = 2
    lines = _lines(4, 4, True, True)
    h = np.zeros(25, dtype=bool)
    for i, j in small:
        h[i * 5 + j] = True
    assert recomputable(lines, h, 25).tolist() == [1 * 5 + 2]
    r = suppress(pd.DataFrame(m, columns=list("abcd")))
    hidden = r.is_suppressed[list("abcd")].to_numpy()
    assert hidden[1, 3] and r.reason.loc[1, "d"] == "secondary"
    ext = np.zeros((5, 5), dtype=bool)
    ext[:4, :4] = hidden
    assert recomputable(lines, ext.reshape(-1), 25).size == 0


def test_recomputable_detects_single_hidden_cell_and_bridge():
    # 2x2 table with margins: hiding only cell (0,0) is recomputable from row 0
    lines = _lines(2, 2, True, True)
    hidden = np.zeros(9, dtype=bool)
    hidden[0] = True
    assert recomputable(lines, hidden, 9).tolist() == [0]
    # hiding a rectangle (0,0),(0,1),(1,0),(1,1) with margins published: nothing determined
    hidden = np.zeros(9, dtype=bool)
    hidden[[0, 1, 3, 4]] = True
    assert recomputable(lines, hidden, 9).size == 0


def test_existing_total_row_recomputed():
    t = pd.DataFrame({"g": ["x", "y", "Total"], "n": [10, 20, 999]})
    r = suppress(t, col_total="Total")
    assert r.values.set_index("g").loc["Total", "n"] == 30  # 10 + 20, not 999
    assert len(r.values) == 3


def test_suppress_long_two_way_and_by():
    df = pd.DataFrame({
        "epci": ["A", "A", "B", "B", "A", "A"],
        "age": ["jeune", "senior", "jeune", "senior", "jeune", "senior"],
        "year": [2024, 2024, 2024, 2024, 2025, 2025],
        "n": [10, 2, 7, 9, 6, 8],
    })
    out = suppress_long(df, "n", ["epci", "age"], by=["year"])
    y24 = out[out.year == 2024].set_index(["epci", "age"])
    # 2024: A.senior = 2 primary -> row A: A.jeune 10 hidden; column senior: B.senior 9
    # hidden; then B has 1 hidden -> B.jeune 7 hidden (all four hidden: 2+10+7+9)
    assert y24["is_suppressed"].all()
    assert y24.loc[("A", "senior"), "suppression"] == "primary"
    y25 = out[out.year == 2025]
    assert not y25["is_suppressed"].any()  # 6 and 8 are >= 5
    assert out["n"].dtype == "Int64" and out.loc[out.is_suppressed, "n"].isna().all()


def test_suppress_long_one_way_and_empty():
    df = pd.DataFrame({"age": ["a", "b", "c", "a"], "n": [1, 6, 9, 1]})
    out = suppress_long(df, "n", ["age"]).set_index("age")
    # duplicated 'a' summed: 2 -> primary; complement: smallest other non-zero 6
    assert out.loc["a", "suppression"] == "primary"
    assert out.loc["b", "suppression"] == "secondary"
    assert not out.loc["c", "is_suppressed"]
    empty = suppress_long(df.iloc[:0], "n", ["age"])
    assert empty.empty and list(empty.columns) == ["age", "n", "is_suppressed", "suppression"]
    with pytest.raises(ValueError):
        suppress_long(df, "n", [])


# --------------------------------------------------------------------------- properties
tables = st.integers(min_value=1, max_value=5).flatmap(
    lambda c: st.lists(st.lists(st.integers(0, 30), min_size=c, max_size=c), min_size=1, max_size=6))


@settings(max_examples=150, deadline=None)
@given(tables, st.integers(min_value=2, max_value=11), st.booleans())
def test_property_published_safe(rows, threshold, printed):
    n_cols = len(rows[0])
    cols = [f"c{j}" for j in range(n_cols)]
    t = pd.DataFrame(rows, columns=cols)
    r = suppress(t, threshold=threshold, row_total="total" if printed else None,
                 col_total="Total" if printed else None,
                 label_col=None)
    count_cols = cols + (["total"] if printed else [])
    v, m = r.values, r.is_suppressed
    # every published count is 0 or >= threshold
    shown = v[count_cols].where(~m[count_cols]).astype("Float64")
    assert not ((shown > 0) & (shown < threshold)).fillna(False).to_numpy().any()
    # hidden cells are NA, published ones equal the input
    assert v[cols].iloc[:len(rows)].where(m[cols].iloc[:len(rows)]).isna().all().all()
    # line rule on the extended table (margins known): in every row/column 0 or >= 2 hidden
    hidden = np.zeros((len(rows) + 1, n_cols + 1), dtype=bool)
    hidden[:len(rows), :n_cols] = m[cols].iloc[:len(rows)].to_numpy()
    if printed:
        hidden[:len(rows), n_cols] = m["total"].iloc[:len(rows)].to_numpy()
        hidden[len(rows), :] = m[count_cols].iloc[len(rows)].to_numpy()
    use_rows = printed or n_cols >= 2
    use_cols = printed or len(rows) >= 2
    if use_rows:
        assert all(k != 1 for k in hidden.sum(axis=1))
    if use_cols:
        assert all(k != 1 for k in hidden.sum(axis=0))
    # exact audit: no hidden cell is determined by the published equations
    lines = _lines(len(rows), n_cols, use_rows, use_cols)
    R, C = len(rows) + (1 if use_cols else 0), n_cols + (1 if use_rows else 0)
    flat_hidden = hidden[:R, :C].reshape(-1)
    assert recomputable(lines, flat_hidden, R * C).size == 0 or not flat_hidden.any()


def test_index_labels_and_total_row_label():
    t = pd.DataFrame({"a": [1, 7], "b": [9, 8]}, index=["x", "y"])
    r = suppress(t, row_total="total", col_total="Total")
    assert list(r.values.columns) == ["a", "b", "total"]
    assert list(r.values.index) == ["x", "y", "Total"]
    # 1 primary; row x -> 9; column a -> 7; row y -> 8: all four inner cells hidden,
    # margins 10, 15, 8, 17, 25 published (4 unknowns, rank-3 system: nothing exact)
    assert r.is_suppressed[["a", "b"]].iloc[:2].to_numpy().all()
    assert r.values.loc["Total", "a"] == 8 and r.values.loc["x", "total"] == 10
