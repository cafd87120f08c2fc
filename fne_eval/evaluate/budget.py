"""Follow the FNE budget: planned, committed and paid amounts, burn rate, training fund.

Amounts are :class:`decimal.Decimal` exact to the cent: they are summed as Decimals,
never as floats. Rates (``*_pct``, ``burn_ratio``) are floats.

The three states follow DOMAIN.md (d) 2: *prévu* (``budget_lines.planned_eur``),
*engagé* (``budget_transactions`` of kind ``commitment``) and *payé* (kind ``payment``).
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Iterable, Optional, Union

import numpy as np
import pandas as pd

from fne_eval.core.periods import elapsed_share, to_timestamp

log = logging.getLogger(__name__)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

#: ``by`` values accepted by :func:`budget_execution` (aliases on the left).
BY_COLUMNS = {
    "action_code": "action_code", "action": "action_code",
    "axis_code": "axis_code", "axis": "axis_code",
    "recipient": "recipient", "funder": "funder",
    "budget_line_id": "budget_line_id", "line": "budget_line_id",
}

#: Seed, annexe 6: « 60 départs en formation au minimum » for the FNE training fund.
TRAINING_FUND_MIN_DEPARTURES = 60
TRAINING_FUND_SOURCE = "Feuille de route, annexe 6 : « 60 départs en formation au minimum »"

#: Burn labels, shown as they are in reports.
BURN_LABELS = ("en avance", "conforme", "en retard")


def sum_decimal(values: Iterable) -> Decimal:
    """Return the exact sum of Decimal amounts, skipping missing values (0.00 when empty)."""
    total = ZERO
    for v in values:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            continue
        if isinstance(v, Decimal) and v.is_nan():
            continue
        total += v if isinstance(v, Decimal) else Decimal(str(v))
    return total.quantize(CENT)


def rate_pct(numerator, denominator) -> float:
    """Return ``100 * numerator / denominator`` as a float; NaN when the denominator is 0 or missing."""
    if numerator is None or denominator is None:
        return float("nan")
    try:
        if pd.isna(numerator) or pd.isna(denominator):
            return float("nan")
    except (TypeError, ValueError):
        pass
    den = Decimal(str(denominator)) if not isinstance(denominator, Decimal) else denominator
    if den == 0:
        return float("nan")
    num = Decimal(str(numerator)) if not isinstance(numerator, Decimal) else numerator
    return float(num * 100 / den)


def _normalize_by(by) -> list:
    if isinstance(by, str):
        by = (by,)
    cols = []
    for b in by:
        if b not in BY_COLUMNS:
            raise ValueError(f"unknown budget grouping {b!r}, expected one of "
                             f"{sorted(set(BY_COLUMNS.values()))}")
        if BY_COLUMNS[b] not in cols:
            cols.append(BY_COLUMNS[b])
    if not cols:
        raise ValueError("by must name at least one column")
    return cols


def _lines_with_axis(budget_lines: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    lines = budget_lines.copy()
    ax = actions[["action_code", "axis_code"]].drop_duplicates()
    lines = lines.drop(columns=[c for c in ("axis_code",) if c in lines.columns])
    return lines.merge(ax, on="action_code", how="left", validate="m:1")


def _transactions_until(transactions: pd.DataFrame, as_of) -> pd.DataFrame:
    tx = transactions
    if as_of is not None and len(tx):
        tx = tx[pd.to_datetime(tx["date"]) <= to_timestamp(as_of)]
    return tx


def _line_amounts(budget_lines, transactions, actions, as_of) -> pd.DataFrame:
    """Return one row per budget line with planned, committed and paid Decimal amounts."""
    lines = _lines_with_axis(budget_lines, actions)
    tx = _transactions_until(transactions, as_of)
    known = tx["budget_line_id"].isin(set(lines["budget_line_id"].dropna())).fillna(False).to_numpy(dtype=bool)
    if not known.all():
        # a caller who passes a subset of the lines (e.g. the 10 actions) leaves the others out
        log.info("budget: %d transactions on lines not in budget_lines ignored (%s)", int((~known).sum()),
                 ", ".join(sorted(set(tx.loc[~known, "budget_line_id"].dropna().astype(str)))))
        tx = tx[known]
    committed, paid = {}, {}
    for (line_id, kind), grp in tx.groupby(["budget_line_id", "kind"], sort=False):
        target = committed if kind == "commitment" else paid if kind == "payment" else None
        if target is None:
            raise ValueError(f"unknown transaction kind {kind!r}, expected 'commitment' or 'payment'")
        target[line_id] = sum_decimal(grp["amount_eur"])
    lines["committed_eur"] = [committed.get(i, ZERO) for i in lines["budget_line_id"]]
    lines["paid_eur"] = [paid.get(i, ZERO) for i in lines["budget_line_id"]]
    lines["planned_eur"] = lines["planned_eur"].astype(object)
    return lines


def _group_row(grp: pd.DataFrame, row: dict) -> dict:
    """Fill amounts and rates of one group of lines.

    Amounts sum every line; rates against the plan (and the remaining amount) only use
    the lines that have a planned amount, so that an uncosted line (the training fund)
    cannot push a rate above what was planned.
    """
    costed = grp["planned_eur"].map(lambda v: v is not None and not pd.isna(v)).to_numpy(dtype=bool)
    planned = sum_decimal(grp.loc[costed, "planned_eur"]) if costed.any() else None
    committed_c = sum_decimal(grp.loc[costed, "committed_eur"])
    paid_c = sum_decimal(grp.loc[costed, "paid_eur"])
    row["planned_eur"] = planned
    row["committed_eur"] = sum_decimal(grp["committed_eur"])
    row["paid_eur"] = sum_decimal(grp["paid_eur"])
    row["remaining_eur"] = (planned - committed_c) if planned is not None else None
    row["commitment_rate_pct"] = rate_pct(committed_c, planned)
    row["payment_rate_pct"] = rate_pct(paid_c, planned)
    row["paid_of_committed_pct"] = rate_pct(row["paid_eur"], row["committed_eur"])
    row["n_lines"] = len(grp)
    return row


def budget_execution(budget_lines: pd.DataFrame, transactions: pd.DataFrame, actions: pd.DataFrame,
                     by: Union[str, tuple] = ("action_code",), as_of=None,
                     totals: bool = False) -> pd.DataFrame:
    """Compute planned, committed and paid amounts and execution rates per group.

    Parameters
    ----------
    budget_lines, transactions, actions : pandas.DataFrame
        The ``budget_lines``, ``budget_transactions`` and ``actions`` tables.
    by : str or tuple of str, default ('action_code',)
        Grouping columns among {'action_code', 'axis_code', 'recipient', 'funder',
        'budget_line_id'} (aliases 'action', 'axis', 'line'). A line without action (the
        training fund) has a missing ``action_code`` and ``axis_code``.
    as_of : date-like, optional
        Only transactions dated on or before ``as_of`` count; all when omitted.
    totals : bool, default False
        Append a total row (``is_total`` True, grouping columns set to ``"total"``).

    Returns
    -------
    pandas.DataFrame
        Grouping columns, then ``planned_eur``, ``committed_eur``, ``paid_eur``,
        ``remaining_eur`` (planned − committed), all Decimal (planned ``None`` when no line
        of the group is costed), then ``commitment_rate_pct`` (committed/planned),
        ``payment_rate_pct`` (paid/planned), ``paid_of_committed_pct`` (paid/committed),
        ``n_lines`` and ``is_total``. Amounts sum every line of the group; the remaining
        amount and the rates against the plan only use lines that have a planned amount
        (an uncosted line such as the training fund cannot push a rate above 100 %).
        Rates are NaN when their denominator is 0 or missing.

    Raises
    ------
    ValueError
        On an unknown ``by`` value. Transactions on lines absent from ``budget_lines``
        are left out (logged at INFO level), so that a subset of lines can be passed.
    """
    cols = _normalize_by(by)
    lines = _line_amounts(budget_lines, transactions, actions, as_of)
    rows = []
    for key, grp in lines.groupby(cols, dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        row = {c: (None if pd.isna(k) else k) for c, k in zip(cols, key)}
        row["is_total"] = False
        rows.append(_group_row(grp, row))
    if totals:
        row = {c: "total" for c in cols}
        row["is_total"] = True
        rows.append(_group_row(lines, row))
    columns = cols + ["planned_eur", "committed_eur", "paid_eur", "remaining_eur",
                      "commitment_rate_pct", "payment_rate_pct", "paid_of_committed_pct",
                      "n_lines", "is_total"]
    out = pd.DataFrame(rows, columns=columns)
    for c in cols:
        out[c] = out[c].astype("string")
    for c in ("planned_eur", "committed_eur", "paid_eur", "remaining_eur"):
        out[c] = out[c].astype(object)
    for c in ("commitment_rate_pct", "payment_rate_pct", "paid_of_committed_pct"):
        out[c] = out[c].astype("float64")
    out["n_lines"] = out["n_lines"].astype("int64")
    out["is_total"] = out["is_total"].astype(bool)
    return out


def has_followup(transactions: Optional[pd.DataFrame]) -> bool:
    """Return True when the bundle holds budget follow-up data (at least one transaction).

    A bundle made by ``fne-eval bundle init`` carries the roadmap's planned amounts
    (annexe 6) but an empty ``budget_transactions`` table until the follow-up is imported:
    nothing is then *known* to be committed or paid, which is not the same as « 0 € paid ».
    Verdicts on the pace of payments need follow-up data.
    """
    return transactions is not None and len(transactions) > 0


def burn_label(burn_ratio: float, tolerance: float = 0.2) -> Optional[str]:
    """Return "en avance", "conforme" or "en retard" for a burn ratio (None when undefined).

    The ratio compares the payment rate with the share of the action's period elapsed;
    within ``1 ± tolerance`` the pace is "conforme".
    """
    if burn_ratio is None or pd.isna(burn_ratio):
        return None
    if burn_ratio > 1 + tolerance:
        return "en avance"
    if burn_ratio < 1 - tolerance:
        return "en retard"
    return "conforme"


def budget_burn(budget_lines: pd.DataFrame, transactions: pd.DataFrame, actions: pd.DataFrame,
                as_of, tolerance: float = 0.2) -> pd.DataFrame:
    """Compare, per action, the share of its period elapsed with the share of its budget paid.

    Parameters
    ----------
    budget_lines, transactions, actions : pandas.DataFrame
        The ``budget_lines``, ``budget_transactions`` and ``actions`` tables.
    as_of : date-like
        Evaluation date; later transactions are ignored.
    tolerance : float, default 0.2
        Half-width of the "conforme" band around a burn ratio of 1.

    Returns
    -------
    pandas.DataFrame
        One row per action of ``actions``: ``action_code``, ``axis_code``, ``start_date``,
        ``end_date``, ``elapsed_pct`` (share of the action's period elapsed at ``as_of``),
        ``planned_eur``, ``paid_eur`` (Decimal), ``payment_rate_pct`` (paid/planned),
        ``burn_ratio`` (payment rate / elapsed share; NaN before the action starts or
        without a planned amount) and ``burn_label`` ("en avance", "conforme", "en retard").
        Without any follow-up data (``transactions`` empty, see :func:`has_followup`) the
        amount paid is unknown: ``paid_eur`` is None, ``payment_rate_pct`` and
        ``burn_ratio`` are NaN and ``burn_label`` is missing — an absence of data is not a delay.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    execution = budget_execution(budget_lines, transactions, actions, by="action_code", as_of=as_of)
    execution = execution[execution["action_code"].notna()]
    acts = actions[["action_code", "axis_code", "start_date", "end_date"]].copy()
    acts["action_code"] = acts["action_code"].astype("string")
    out = acts.merge(execution[["action_code", "planned_eur", "paid_eur", "payment_rate_pct"]],
                     on="action_code", how="left", validate="1:1")
    out["paid_eur"] = [v if isinstance(v, Decimal) else ZERO for v in out["paid_eur"]]
    out["planned_eur"] = [v if isinstance(v, Decimal) else None for v in out["planned_eur"]]
    out["elapsed_pct"] = [100 * elapsed_share(s, e, as_of) for s, e in zip(out["start_date"], out["end_date"])]
    ratios = []
    for pay, el in zip(out["payment_rate_pct"], out["elapsed_pct"]):
        ratios.append(float("nan") if pd.isna(pay) or pd.isna(el) or el == 0 else pay / el)
    out["burn_ratio"] = np.array(ratios, dtype="float64")
    out["burn_label"] = pd.array([burn_label(r, tolerance) for r in out["burn_ratio"]], dtype="string")
    if not has_followup(transactions):
        out["paid_eur"] = [None] * len(out)
        out["payment_rate_pct"] = np.nan
        out["burn_ratio"] = np.nan
        out["burn_label"] = pd.array([pd.NA] * len(out), dtype="string")
    cols = ["action_code", "axis_code", "start_date", "end_date", "elapsed_pct", "planned_eur",
            "paid_eur", "payment_rate_pct", "burn_ratio", "burn_label"]
    return out[cols].reset_index(drop=True)


def training_fund(budget_lines: pd.DataFrame, trainings: pd.DataFrame, as_of=None,
                  by=("training_type", "structure_type")) -> pd.DataFrame:
    """Count departures funded by the FNE training fund against its 60-departure minimum.

    Parameters
    ----------
    budget_lines : pandas.DataFrame
        The ``budget_lines`` table; the target is the sum of ``target_departures``
        (the training fund line); when no line gives one, the seed's minimum of 60.
    trainings : pandas.DataFrame
        The ``trainings`` table; only rows with ``funded_by_training_fund`` count.
    as_of : date-like, optional
        Only departures dated on or before ``as_of`` count.
    by : tuple of str, default ('training_type', 'structure_type')
        Breakdown columns, a subset of {'training_type', 'structure_type'}.

    Returns
    -------
    pandas.DataFrame
        One row per breakdown group with ``departures`` and ``share_of_departures_pct``,
        then a total row (``is_total`` True, breakdown columns ``"total"``) carrying
        ``target_departures``, ``remaining`` (never below 0) and ``share_achieved_pct``.
    """
    by = [by] if isinstance(by, str) else list(by)
    for b in by:
        if b not in ("training_type", "structure_type"):
            raise ValueError(f"unknown training breakdown {b!r}, expected 'training_type' or 'structure_type'")
    targets = pd.to_numeric(budget_lines.get("target_departures", pd.Series(dtype="float64")),
                            errors="coerce").dropna()
    target = int(targets.sum()) if len(targets) else TRAINING_FUND_MIN_DEPARTURES
    tr = trainings
    if len(tr):
        tr = tr[tr["funded_by_training_fund"].astype("boolean").fillna(False).astype(bool)]
        if as_of is not None:
            tr = tr[pd.to_datetime(tr["date"]) <= to_timestamp(as_of)]
    deps = pd.to_numeric(tr["departures"]).astype("float64") if len(tr) else pd.Series(dtype="float64")
    total = int(deps.sum()) if len(deps) else 0
    rows = []
    if by and len(tr):
        grouped = tr.assign(_d=deps).groupby(by, sort=True, dropna=False)["_d"].sum()
        for key, val in grouped.items():
            key = key if isinstance(key, tuple) else (key,)
            row = dict(zip(by, key))
            row.update(departures=int(val), share_of_departures_pct=rate_pct(int(val), total),
                       target_departures=None, remaining=None, share_achieved_pct=float("nan"),
                       is_total=False)
            rows.append(row)
    total_row = {b: "total" for b in by}
    total_row.update(departures=total, share_of_departures_pct=100.0 if total else float("nan"),
                     target_departures=target, remaining=max(target - total, 0),
                     share_achieved_pct=rate_pct(total, target), is_total=True)
    rows.append(total_row)
    out = pd.DataFrame(rows, columns=by + ["departures", "share_of_departures_pct", "target_departures",
                                           "remaining", "share_achieved_pct", "is_total"])
    for b in by:
        out[b] = out[b].astype("string")
    out["departures"] = out["departures"].astype("int64")
    out["target_departures"] = out["target_departures"].astype("Int64")
    out["remaining"] = out["remaining"].astype("Int64")
    out["share_of_departures_pct"] = out["share_of_departures_pct"].astype("float64")
    out["share_achieved_pct"] = out["share_achieved_pct"].astype("float64")
    out["is_total"] = out["is_total"].astype(bool)
    return out
