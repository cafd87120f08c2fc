"""A territory's headline figures, read from the indicator store (``fne-eval figures``).

:func:`headline_figures` returns a plain dict (amounts as :class:`decimal.Decimal`), every
value taken from :func:`fne_eval.store.get_store` for the evaluated year;
:func:`figures_to_json` turns it into JSON (amounts as numbers with two decimals). The
French text and the command line are in :mod:`fne_eval.cli.figures`.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import Optional

import numpy as np
import pandas as pd

from fne_eval.core.periods import evaluated_as_of, to_timestamp
from fne_eval.core.territory import code_membership, level_of, territory_name
from fne_eval.evaluate.indicators import monitoring_data_end, poisson_ci
from fne_eval.evaluate.meteo import action_meteo
from fne_eval.evaluate.schedule import task_status
from fne_eval.store.build import population_year_for
from fne_eval.store.cache import get_store

DEFAULT_TERRITORY = "13"
PER = 10000

def _bundle_as_of(bundle) -> pd.Timestamp:
    meta = getattr(bundle, "meta", {}) or {}
    if meta.get("data_as_of"):
        return to_timestamp(meta["data_as_of"])
    end = monitoring_data_end(bundle.tables)
    return end if end is not None else pd.Timestamp.today().normalize()


def _membership_column(level: str) -> str:
    return {"departement": "departement_code", "epci": "epci_siren", "commune": "commune_code",
            "arrondissement": "unit_code"}[level]


def _in_territory(codes: pd.Series, territories: pd.DataFrame, code: str, level: str) -> pd.Series:
    """Return a boolean mask: which commune/arrondissement ``codes`` lie in the territory."""
    cm = code_membership(territories)
    m = cm.set_index(cm["unit_code"])[_membership_column(level)]
    return (codes.astype("string").map(m) == code).fillna(False).astype(bool)


def _store_value(store: pd.DataFrame, indicator_id: str, code: str, period: str, breakdown: str = ""):
    """Return the store's row of one figure (a Series), or None."""
    rows = store[(store["indicator"] == indicator_id) & (store["territory_code"] == code)
                 & (store["period"] == period) & (store["breakdown"] == breakdown)]
    return rows.iloc[0] if len(rows) else None


def _shown(row) -> Optional[float]:
    if row is None or row["status"] != "shown" or pd.isna(row["value"]):
        return None
    return float(row["value"])


def _money(row) -> Decimal:
    v = _shown(row)
    return Decimal("0.00") if v is None else Decimal(f"{v:.2f}")


def headline_figures(bundle, territory_code: Optional[str] = None, year: Optional[int] = None,
                     as_of=None, threshold: int = 5) -> dict:
    """Compute the headline figures of one territory for an evaluated year, from the indicator store.

    Parameters
    ----------
    bundle : Bundle
        A loaded bundle.
    territory_code : str, optional
        Any territory of the ``territories`` table; the département "13" when omitted.
    year : int, optional
        Evaluated year (as in the annual review of that year); default: the year of the
        bundle's data end. The population millésime follows
        :data:`fne_eval.store.registry.POPULATION_RULE`.
    as_of : date-like, optional
        Date of the figures; default: 31 December of ``year``, or the data's end if earlier
        (:func:`fne_eval.core.periods.evaluated_as_of`), the same date as the pack of that year.
    threshold : int, default 5
        Disclosure threshold (the pack's).

    Returns
    -------
    dict
        ``territory`` {code, name, level}; ``year``; ``as_of``; ``population`` {value, year};
        for a département ``population_members_total`` {value, year, epci}; ``ifn``
        {value, vintage, method}; ``lieux``, ``lieux_per_10k``, ``lieux_date``; ``budget``
        {planned_eur, committed_eur, paid_eur (Decimal), rates, as_of, scope, note};
        ``actions_by_status``; ``tasks_by_state``; ``accompaniments`` {year, value} (activity
        records) and ``participations`` {year, value, per_1000, ci_lower, ci_upper,
        population_year, complete_year, is_suppressed}: every value is the store's, and a
        cell the store hides is None here too.

    Raises
    ------
    ValueError
        For an unknown territory, or a year the bundle has no population for.
    """

    t = bundle.tables
    territories, populations = t["territories"], t["populations"]
    code = str(territory_code).strip() if territory_code is not None else DEFAULT_TERRITORY
    level = level_of(territories, code)  # ValueError on an unknown code
    data_end = _bundle_as_of(bundle)
    if year is None:
        year = int(data_end.year)
    year = int(year)
    years = sorted(set(pd.to_numeric(populations["year"]).astype(int)))
    if not years or year < years[0]:
        raise ValueError(f"aucune population INSEE pour l'année {year} ni avant "
                         f"(millésimes du bundle : {', '.join(map(str, years)) or 'aucun'})")
    as_of = to_timestamp(as_of) if as_of is not None else evaluated_as_of(year, data_end)
    store = get_store(bundle, as_of, threshold)
    period = str(year)
    pop_row = _store_value(store, "population", code, str(as_of.year))
    pop_year = population_year_for(populations, as_of.year)
    if pop_row is None or pd.isna(pop_row["value"]):
        raise ValueError(f"population {pop_year} inconnue pour le territoire {code}")
    pop = int(pop_row["value"])
    fig = {
        "territory": {"code": code, "name": territory_name(territories, code), "level": level},
        "year": year, "population": {"value": pop, "year": int(pop_year)},
    }
    if level == "departement":
        m = code_membership(territories)
        epcis = sorted(m.loc[(m["departement_code"] == code).fillna(False), "epci_siren"].dropna().unique())
        parts = {}
        for e in epcis:
            r = _store_value(store, "population", e, str(as_of.year))
            if r is None or pd.isna(r["value"]):
                raise ValueError(f"population {pop_year} incomplète pour l'EPCI {e}")
            parts[e] = int(r["value"])
        fig["population_members_total"] = {
            "value": int(sum(parts.values())), "year": int(pop_year), "epci": parts,
            "note": "Somme des EPCI qui regroupent les communes du département, communes membres hors département comprises",
        }
    ifn_row = _store_value(store, "ifn", code, str(as_of.year))
    ifn_method = {"departement": "moyenne des communes et arrondissements pondérée par leur population",
                  "epci": "valeur publiée pour l'EPCI (La MedNum)",
                  "commune": "valeur publiée pour la commune, ou moyenne de ses arrondissements pondérée par leur population",
                  "arrondissement": "valeur publiée pour l'arrondissement (La MedNum)"}[level]
    fig["ifn"] = {"value": _shown(ifn_row), "vintage": (str(ifn_row["vintage"]).replace("IFN ", "")
                                                        if ifn_row is not None else None),
                  "method": ifn_method if _shown(ifn_row) is not None else "aucune valeur pour ce territoire"}
    lieux_row = _store_value(store, "lieux", code, str(as_of.year))
    fig["lieux"] = int(lieux_row["value"]) if lieux_row is not None else 0
    fig["lieux_per_10k"] = _shown(_store_value(store, "lieux_per_10000", code, str(as_of.year)))
    lieux = t.get("lieux")
    lieux_dates = pd.to_datetime(lieux["date_maj"]) if lieux is not None and len(lieux) else pd.Series(dtype="datetime64[ns]")
    fig["lieux_date"] = lieux_dates.max().strftime("%Y-%m-%d") if len(lieux_dates.dropna()) else None

    dept = sorted(territories.loc[territories["level"].astype(str) == "departement", "territory_code"].astype(str))
    dcode = dept[0] if dept else DEFAULT_TERRITORY
    planned = _money(_store_value(store, "budget_planned_eur", dcode, str(as_of.year)))
    committed = _money(_store_value(store, "budget_committed_eur", dcode, str(as_of.year)))
    paid = _money(_store_value(store, "budget_paid_eur", dcode, str(as_of.year)))
    n_actions = t["budget_lines"]["action_code"].dropna().nunique()
    scope = f"budget FNE des {n_actions} actions de la feuille de route (annexe 6), niveau départemental"
    note = None
    if level != "departement":
        note = ("Le budget FNE n'est pas territorialisé dans la feuille de route : "
                "les montants sont ceux du département, pas de ce territoire.")
    rate = (lambda x: float(x / planned * 100) if planned else None)
    fig["budget"] = {"planned_eur": planned, "committed_eur": committed, "paid_eur": paid,
                     "commitment_rate_pct": rate(committed), "payment_rate_pct": rate(paid),
                     "as_of": as_of.strftime("%Y-%m-%d"), "scope": scope, "note": note}

    meteo = action_meteo(t, as_of)
    counts = meteo["final_status"].value_counts()
    fig["actions_by_status"] = {s: int(counts.get(s, 0)) for s in ("green", "amber", "red", "grey")}
    fig["actions_by_status_source"] = ("météo des actions (statut retenu : décision du COPIL si elle existe, "
                                       f"sinon météo calculée par les règles) au {as_of.strftime('%Y-%m-%d')}, "
                                       "niveau départemental")
    ts = task_status(t["schedule_tasks"], t["schedule_status"], as_of)
    states = ts["state"].value_counts()
    fig["tasks_by_state"] = {s: int(states.get(s, 0)) for s in ("not_started", "in_progress", "done", "late", "cancelled", "unreported")}

    acc_row = _store_value(store, "accompaniments", code, period)
    part_row = _store_value(store, "participations", code, period)
    rate_row = _store_value(store, "participations_per_1000", code, period)
    hidden = part_row is not None and part_row["status"] in ("primary", "secondary")
    k = _shown(part_row)
    per = _shown(rate_row)
    denom = float(rate_row["denominator"]) if rate_row is not None and not pd.isna(rate_row["denominator"]) else None
    lo = hi = None
    if k is not None and denom:
        lo_k, hi_k = poisson_ci(int(k))
        lo, hi = lo_k / denom * 1000, hi_k / denom * 1000
    fig["accompaniments"] = {"year": year, "value": None if _shown(acc_row) is None else int(_shown(acc_row)),
                             "is_suppressed": acc_row is not None and acc_row["status"] in ("primary", "secondary")}
    fig["participations"] = {
        "year": year, "value": None if k is None else int(k), "per_1000": per, "ci_lower": lo, "ci_upper": hi,
        "population_year": int(population_year_for(populations, year)),
        "complete_year": bool(as_of >= pd.Timestamp(year, 12, 31)), "is_suppressed": bool(hidden)}
    fig["is_synthetic"] = bool(getattr(bundle, "is_synthetic", False))
    fig["synthetic_tables"] = list((getattr(bundle, "meta", {}) or {}).get("synthetic_tables", []))
    fig["as_of"] = as_of.strftime("%Y-%m-%d")
    return fig


def _float(v):
    return None if v is None or pd.isna(v) else float(v)


# --------------------------------------------------------------------------- output
def _jsonable(obj, marks: dict):
    if isinstance(obj, Decimal):
        key = f"__decimal_{len(marks)}__"
        marks[key] = f"{obj.quantize(Decimal('0.01')):f}"
        return key
    if isinstance(obj, dict):
        return {str(k): _jsonable(v, marks) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v, marks) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if np.isnan(obj) else float(obj)
    if obj is pd.NA or obj is pd.NaT:
        return None
    return obj


def figures_to_json(figures: dict, indent: int = 2) -> str:
    """Return the figures as JSON; Decimal amounts become numbers with two decimals (71433.00)."""
    marks: dict = {}
    text = json.dumps(_jsonable(figures, marks), ensure_ascii=False, indent=indent)
    for key, num in marks.items():
        text = text.replace(f'"{key}"', num)
    return text
