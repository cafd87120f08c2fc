"""Disclosure control on the whole store at once: one status per cell, for every report.

The counts of people of the store (``accompaniments``, ``participations``) are linked
tables: a territory's total is the sum of its communes' (the département adds the records
without a commune), the Métropole counts communes outside the département, a year is the
sum of its months, and the categories of an additive breakdown (age band, gender, social
status, activity type) sum to the total. Every published cell is therefore a linear form
over a small set of unknowns:

* ``t[u]``: the year total of each commune or arrondissement ``u`` (and of the records
  without a commune, counted in the département only);
* ``x[a, d, c]``: the count of category ``c`` of dimension ``d`` in each *atom* ``a`` (the
  part of an EPCI inside one département, the records without a commune), with the known
  equation ``sum_c x[a, d, c] = sum_{u in a} t[u]`` for additive dimensions; months are a
  dimension whose categories are the months of the year.

Rules, per indicator and year:

1. **Primary**: a count ``0 < n < threshold`` is hidden (zeros are shown).
2. **Secondary**: a hidden cell is recoverable when its form lies in the span of the
   published forms and the known equations (null-space test on the whole system, so
   differencing across levels, breakdowns and months is covered, not only one table's
   rows and columns). While a hidden cell is recoverable, the smallest published non-zero
   cell whose hiding makes it unrecoverable is hidden too.
3. Rates built on a hidden count (``participations_per_1000``) are hidden with it.
4. The roadmap's own indicators counting people get the primary rule.

Interval disclosure (bounds from counts being >= 0) is not checked, as in
:mod:`fne_eval.store.disclosure`.
"""
from __future__ import annotations

import logging
from typing import Dict, List, Tuple

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

from fne_eval.core.territory import code_membership

__all__ = ["protect", "recoverable", "system_of", "LINKED", "ADDITIVE", "PEOPLE_UNITS", "MAX_SYSTEM_CELLS"]

log = logging.getLogger(__name__)

#: Indicators whose cells form the linked system.
LINKED = ("accompaniments", "participations")
#: Breakdown dimensions whose categories add up to the total (``month`` within its year).
ADDITIVE = ("age_band", "gender", "social_status", "activity_type", "month")
#: Units of roadmap indicators that count people (primary rule).
PEOPLE_UNITS = {"persons", "participants", "accompaniments", "departures", "count", "people",
                "personnes", "accompagnements", "departs"}
UNLOCATED = "__sans_commune__"


def _atoms(territories: pd.DataFrame) -> Tuple[Dict[str, str], Dict[str, list]]:
    """Return unit → atom and territory → units (every level) from the membership table."""
    cm = code_membership(territories)
    atom_of, members = {}, {}
    for r in cm.itertuples(index=False):
        u = str(r.unit_code)
        atom_of[u] = f"{r.epci_siren}|{r.departement_code}"
        for key in (r.commune_code, r.epci_siren, r.departement_code):
            if isinstance(key, str) and key:
                members.setdefault(key, set()).add(u)
        members.setdefault(u, set()).add(u)
    # a commune with arrondissements: its own code (data keyed 13055) is a unit of its members
    return atom_of, {k: sorted(v) for k, v in members.items()}


def system_of(cells: pd.DataFrame, atom_of: dict, members: dict, depts: list) -> tuple:
    """Return ``(A, known_zero_rows, variables)`` for the cells of one indicator and year.

    ``A`` has one row per cell (in the order of ``cells``) over the unknowns; the known
    equations (breakdowns and months adding up to the atom totals) are returned as rows
    whose value is 0.
    """
    var: Dict[tuple, int] = {}

    def v(key):
        if key not in var:
            var[key] = len(var)
        return var[key]

    rows: List[list] = []
    atoms_used = set()
    for r in cells.itertuples(index=False):
        code = str(r.territory_code)
        units = list(members.get(code, [code]))
        if r.level == "departement" and code in depts:
            units = units + [f"{UNLOCATED}|{code}"]  # the records without a commune of this département
        month = len(str(r.period)) == 7  # "2025-03": a month is a category of its year
        if r.breakdown or month:
            dim, cat = ("month", str(r.period)) if month else r.breakdown.split("=", 1)
            atoms = sorted({u if u.startswith(UNLOCATED) else atom_of.get(u, u) for u in units})
            atoms_used.update(atoms)
            rows.append([v(("x", a, dim, cat)) for a in atoms])
        else:
            rows.append([v(("t", u)) for u in units])
    # known equations: additive breakdowns sum to the atom's units
    eq = []
    dims_cats: Dict[tuple, set] = {}
    for key in list(var):
        if key[0] == "x" and key[2] in ADDITIVE:
            dims_cats.setdefault((key[1], key[2]), set()).add(key[3])
    atom_units: Dict[str, list] = {}
    for u, a in atom_of.items():
        atom_units.setdefault(a, []).append(u)
    for key in var:
        if key[0] == "t" and str(key[1]).startswith(UNLOCATED):
            atom_units[key[1]] = [key[1]]
    for (a, dim), cats in dims_cats.items():
        plus = [var[("x", a, dim, c)] for c in sorted(cats)]
        minus = [v(("t", u)) for u in atom_units.get(a, [])]
        eq.append((plus, minus))
    n = len(var)
    A = np.zeros((len(rows), n))
    for i, cols in enumerate(rows):
        A[i, cols] = 1.0
    E = np.zeros((len(eq), n))
    for i, (plus, minus) in enumerate(eq):
        E[i, plus] = 1.0
        E[i, minus] = -1.0
    return A, E, var


def _null_space(M: np.ndarray, n: int) -> np.ndarray:
    if M.shape[0] == 0:
        return np.eye(n)
    _, s, vt = np.linalg.svd(M, full_matrices=True)
    tol = max(M.shape) * np.finfo(float).eps * (s[0] if len(s) else 1.0) * 10
    rank = int((s > tol).sum())
    return vt[rank:].T


def recoverable(A: np.ndarray, E: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Return which hidden rows of ``A`` are determined by the published rows and ``E``.

    A cell is determined iff its form is orthogonal to the null space of the known forms.
    """
    known = np.vstack([A[~hidden], E]) if len(E) else A[~hidden]
    N = _null_space(known, A.shape[1])
    if N.shape[1] == 0:
        return hidden.copy()
    proj = np.abs(A @ N).max(axis=1) if len(A) else np.zeros(0)
    return hidden & (proj < 1e-8)


def _determined(A: np.ndarray, E: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Return which hidden rows of ``A`` the published rows and the equations ``E`` determine."""
    return recoverable(A, E, hidden)


def _complement(A: np.ndarray, E: np.ndarray, hidden: np.ndarray, h: int, weights: np.ndarray) -> np.ndarray:
    """Return the published rows to hide so that hidden row ``h`` is no longer determined.

    ``h`` is undetermined iff some direction ``z`` keeps every published form and every known
    equation unchanged while moving ``h``: ``A_i z = 0`` for the published rows, ``E z = 0``,
    ``A_h z = 1``. The cheapest set of rows to hide is the support of ``A z`` over the
    published rows; minimising ``sum_i w_i |A_i z|`` (a linear programme, the usual L1
    relaxation of optimal cell suppression) finds a small, cheap one.
    """
    shown = np.flatnonzero(~hidden)
    m, n = len(shown), A.shape[1]
    S = sparse.csr_matrix(A[shown])
    eye = sparse.identity(m, format="csr")
    a_ub = sparse.vstack([sparse.hstack([S, -eye]), sparse.hstack([-S, -eye])], format="csr")
    eq_rows = [sparse.hstack([sparse.csr_matrix(A[h:h + 1]), sparse.csr_matrix((1, m))])]
    b_eq = [1.0]
    if len(E):
        eq_rows.insert(0, sparse.hstack([sparse.csr_matrix(E), sparse.csr_matrix((len(E), m))]))
        b_eq = [0.0] * len(E) + b_eq
    a_eq = sparse.vstack(eq_rows, format="csr")
    c = np.concatenate([np.zeros(n), weights[shown]])
    bounds = [(None, None)] * n + [(0, None)] * m
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(2 * m), A_eq=a_eq, b_eq=np.asarray(b_eq), bounds=bounds,
                  method="highs")
    if not res.success:  # pragma: no cover - h is fixed by the equations alone
        return np.zeros(0, dtype=int)
    return shown[res.x[n:] > 1e-7]


def _protect_system(cells: pd.DataFrame, threshold: int, atom_of, members, depts) -> np.ndarray:
    """Return the status codes (0 shown, 1 primary, 2 secondary) of one linked system.

    Hiding costs grow with the level of the cell (a commune's total before a breakdown cell,
    before an EPCI's total, before the département's) and with its value, so secondary
    suppression falls on the least informative cells.
    """
    values = cells["value"].to_numpy(dtype=float)
    status = np.where((values > 0) & (values < threshold), 1, 0)
    if not status.any():
        return status
    A, E, _ = system_of(cells, atom_of, members, depts)
    level = cells["level"].astype(str).to_numpy()
    total = (cells["breakdown"].astype(str) == "").to_numpy()
    klass = np.select([np.isin(level, ["commune", "arrondissement"]), ~total, level == "epci"], [1, 2, 50], 1000)
    # hiding a zero protects little (the hidden sum is then the small count itself): avoid it
    weights = klass * np.where(values > 0, np.maximum(values, threshold), 4 * threshold)
    for _ in range(len(cells)):
        determined = _determined(A, E, status > 0)
        if not determined.any():
            break
        add = _complement(A, E, status > 0, int(np.flatnonzero(determined)[0]), weights)
        if len(add) == 0:  # pragma: no cover
            log.warning("protect: a hidden cell is determined by the known equations alone")
            break
        status[add] = 2
    return status


#: Above this many cells (a national bundle's 95 000 cells per indicator and year), a system is
#: protected table by table (:func:`_protect_groups`), not by the null-space test.
MAX_SYSTEM_CELLS = 4000


def _groups(cells: pd.DataFrame, territories: pd.DataFrame) -> pd.DataFrame:
    """Return the additive groups of one indicator-year system: ``group, cell, is_total`` rows.

    A group is a published total and the cells that add up to it: the local units (communes
    without arrondissements, arrondissements) of an EPCI or a département, the
    arrondissements of their commune, the categories of an additive breakdown of a
    territory, the months of its year. Built with joins, no loop over the cells.
    """
    c = pd.DataFrame({"cell": np.arange(len(cells)), "level": cells["level"].astype(str).to_numpy(),
                      "code": cells["territory_code"].astype(str).to_numpy(),
                      "period": cells["period"].astype(str).to_numpy(),
                      "breakdown": cells["breakdown"].astype(str).to_numpy()})
    c["year"] = c["period"].str[:4]
    month = c["period"].str.len() == 7
    c["dim"] = np.where(month, "month", c["breakdown"].str.split("=", n=1).str[0])
    tot = c[(c["breakdown"] == "") & ~month]
    frames = []
    # breakdowns and months add up to the territory's year total
    parts = c[(c["breakdown"] != "") | month]
    parts = parts[parts["dim"].isin(ADDITIVE)]
    g = parts.merge(tot[["cell", "level", "code", "year"]].rename(columns={"cell": "total"}),
                    on=["level", "code", "year"], how="inner")
    g["group"] = "b|" + g["level"] + "|" + g["code"] + "|" + g["dim"]
    frames += [g[["group", "cell"]].assign(is_total=False),
               g[["group", "total"]].drop_duplicates().rename(columns={"total": "cell"}).assign(is_total=True)]
    # local units add up to their EPCI, département and (arrondissements) commune
    cm = code_membership(territories)
    units = tot[tot["level"].isin(["commune", "arrondissement"])].merge(
        cm[["unit_code", "commune_code", "epci_siren", "departement_code", "is_local_unit", "unit_level"]],
        left_on="code", right_on="unit_code", how="inner")
    local = units[units["is_local_unit"].astype(bool)]
    for lv, col in (("epci", "epci_siren"), ("departement", "departement_code"), ("commune", "commune_code")):
        src = local[local["unit_level"] == "arrondissement"] if lv == "commune" else local
        parent = tot[tot["level"] == lv][["cell", "code"]].rename(columns={"cell": "total", "code": col})
        g = src.merge(parent, on=col, how="inner")
        g["group"] = "h|" + lv + "|" + g[col].astype(str)
        frames += [g[["group", "cell"]].assign(is_total=False),
                   g[["group", "total"]].drop_duplicates().rename(columns={"total": "cell"}).assign(is_total=True)]
    return pd.concat(frames, ignore_index=True)


def _protect_groups(cells: pd.DataFrame, threshold: int, territories: pd.DataFrame) -> np.ndarray:
    """Return the status codes of a large system, protected group by group (vectorised).

    Primary rule as :func:`_protect_system`; then, while a group (a total and the cells
    adding up to it, see :func:`_groups`) has exactly one hidden cell, the cheapest
    published non-hidden cell of the group (same costs as :func:`_protect_system`) is hidden
    too. Every total is then protected against differencing within each of its tables; the
    combinations across tables that the null-space test also covers are not checked here.
    """
    values = cells["value"].to_numpy(dtype=float)
    status = np.where((values > 0) & (values < threshold), 1, 0)
    if not status.any():
        return status
    level = cells["level"].astype(str).to_numpy()
    total = (cells["breakdown"].astype(str) == "").to_numpy()
    klass = np.select([np.isin(level, ["commune", "arrondissement"]), ~total, level == "epci"], [1, 2, 50], 1000)
    weights = klass * np.where(values > 0, np.maximum(values, threshold), 4 * threshold)
    g = _groups(cells, territories)
    gid = pd.factorize(g["group"])[0]
    cell = g["cell"].to_numpy()
    for _ in range(len(cells)):
        hidden = status[cell] > 0
        n_hidden = np.bincount(gid, weights=hidden.astype(float), minlength=gid.max() + 1)
        open_ = n_hidden[gid] == 1  # rows of groups with a single hidden cell
        if not open_.any():
            break
        cand = pd.DataFrame({"gid": gid[open_ & ~hidden], "cell": cell[open_ & ~hidden]})
        if cand.empty:  # pragma: no cover - a group of one cell
            break
        cand["w"] = weights[cand["cell"].to_numpy()]
        pick = cand.sort_values(["w", "cell"]).drop_duplicates("gid")["cell"].to_numpy()
        status[pick] = np.where(status[pick] == 0, 2, status[pick])
    return status


def protect(store: pd.DataFrame, territories: pd.DataFrame, threshold: int = 5) -> pd.DataFrame:
    """Return ``store`` with the ``status`` of every cell after pack-wide disclosure control.

    ``status`` becomes ``primary`` or ``secondary`` for hidden cells; values are kept in
    the store (the reports and exports never print them).
    """
    if isinstance(threshold, bool) or int(threshold) < 1:
        raise ValueError(f"seuil de diffusion invalide : {threshold!r}")
    out = store.copy()
    out["status"] = out["status"].astype(object)
    terr = territories
    atom_of, members = _atoms(terr)
    depts = sorted(terr.loc[terr["level"].astype(str) == "departement", "territory_code"].astype(str))
    names = {1: "primary", 2: "secondary"}
    linked = out["indicator"].isin(LINKED) & out["value"].notna()
    year = out["period"].astype(str).str[:4]
    for (ind, y), idx in out[linked].groupby([out["indicator"], year]).groups.items():
        cells = out.loc[idx]
        if len(cells) <= MAX_SYSTEM_CELLS:
            st = _protect_system(cells, int(threshold), atom_of, members, depts)
        else:
            st = _protect_groups(cells, int(threshold), terr)
        for code, label in names.items():
            out.loc[cells.index[st == code], "status"] = label
    # rates built on a hidden count
    hidden_tot = out[(out["indicator"] == "participations") & (out["breakdown"] == "")
                     & out["status"].isin(["primary", "secondary"])]
    keys = set(zip(hidden_tot["level"], hidden_tot["territory_code"], hidden_tot["period"]))
    rate = out["indicator"] == "participations_per_1000"
    hide = [k in keys for k in zip(out.loc[rate, "level"], out.loc[rate, "territory_code"], out.loc[rate, "period"])]
    out.loc[out.index[rate][hide], "status"] = "secondary"
    # roadmap indicators and distinct people counting people: primary rule
    people = (out["indicator"].str.startswith("roadmap.") & out["unit"].astype(str).isin(PEOPLE_UNITS)) | (
        out["indicator"] == "distinct_people")
    small = people & (out["value"] > 0) & (out["value"] < threshold)
    out.loc[small, "status"] = "primary"
    return out
