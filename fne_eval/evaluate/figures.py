"""Compute a territory's headline figures and print them (``fne-eval figures``).

:func:`headline_figures` returns a plain dict (amounts as :class:`decimal.Decimal`);
:func:`figures_to_json` and :func:`figures_to_text` turn it into JSON (amounts as numbers
with two decimals) or French text; :func:`cmd_figures` is the command line.
"""
from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Optional

import numpy as np
import pandas as pd

from fne_eval.core.periods import to_timestamp

DEFAULT_TERRITORY = "13"
PER = 10000

LEVEL_FR = {"departement": "département", "epci": "EPCI", "commune": "commune", "arrondissement": "arrondissement"}
STATUS_FR = {"green": "vert", "amber": "orange", "red": "rouge", "grey": "gris (pas de données)"}
STATE_FR = {"not_started": "non commencées", "in_progress": "en cours", "done": "terminées", "late": "en retard",
            "cancelled": "annulées"}


def _bundle_as_of(bundle) -> pd.Timestamp:
    from fne_eval.evaluate.indicators import _data_end

    meta = getattr(bundle, "meta", {}) or {}
    if meta.get("data_as_of"):
        return to_timestamp(meta["data_as_of"])
    end = _data_end(bundle.tables)
    return end if end is not None else pd.Timestamp.today().normalize()


def _membership_column(level: str) -> str:
    return {"departement": "departement_code", "epci": "epci_siren", "commune": "commune_code",
            "arrondissement": "unit_code"}[level]


def _in_territory(codes: pd.Series, territories: pd.DataFrame, code: str, level: str) -> pd.Series:
    """Return a boolean mask: which commune/arrondissement ``codes`` lie in the territory."""
    from fne_eval.core.territory import code_membership

    cm = code_membership(territories)
    m = cm.set_index(cm["unit_code"])[_membership_column(level)]
    return (codes.astype("string").map(m) == code).fillna(False).astype(bool)


def territory_ifn(tables: dict, territories: pd.DataFrame, code: str, level: str) -> dict:
    """Return the IFN of a territory with its vintage and how it was obtained.

    The one definition of a territory's Indice de fragilité numérique, used by
    :func:`headline_figures` and by the reports. The ``tout_age`` variant of the latest
    vintage is used; a département gets the unweighted mean of its communes and
    arrondissements (the method of La MedNum's files), an EPCI, a commune or an
    arrondissement its published value.

    Parameters
    ----------
    tables : dict
        Bundle tables (``tables["ifn"]`` is read; absent or empty gives no value).
    territories : DataFrame
        The bundle's ``territories`` table.
    code : str
        Territory code (``"13"``, an EPCI SIREN, an INSEE code).
    level : {'departement', 'epci', 'commune', 'arrondissement'}
        Level of ``code``.

    Returns
    -------
    dict
        ``value`` (float or None), ``vintage`` (str or None), ``method`` (French text) and
        ``n_units`` (number of values behind ``value``).
    """
    if level not in ("departement", "epci", "commune", "arrondissement"):
        raise ValueError(f"unknown level {level!r}, expected 'departement', 'epci', 'commune' or 'arrondissement'")
    ifn = tables.get("ifn")
    out = {"value": None, "vintage": None, "method": None, "n_units": None}
    if ifn is None or not len(ifn):
        out["method"] = "IFN absent du bundle"
        return out
    ifn = ifn[(ifn["variant"] == "tout_age").fillna(False).to_numpy()] if (ifn["variant"] == "tout_age").any() else ifn
    vintage = sorted(ifn["vintage"].dropna().unique().tolist())[-1]
    ifn = ifn[(ifn["vintage"] == vintage).to_numpy()]
    out["vintage"] = str(vintage)
    if level == "departement":
        from fne_eval.core.territory import code_membership

        m = code_membership(territories)
        units = set(m.loc[(m["departement_code"] == code).fillna(False), "unit_code"])
        vals = ifn[ifn["territory_code"].isin(units).to_numpy() & ifn["ifn_total"].notna().to_numpy()]
        if len(vals):
            out["value"] = float(vals["ifn_total"].astype("float64").mean())
            out["n_units"] = int(len(vals))
        out["method"] = (f"moyenne non pondérée des {len(vals)} communes et arrondissements du département "
                         "ayant une valeur (méthode des fichiers de La MedNum ; non pondérée par la population)")
        return out
    row = ifn[(ifn["territory_code"] == code).to_numpy()]
    if len(row) and not pd.isna(row["ifn_total"].iloc[0]):
        out["value"] = float(row["ifn_total"].iloc[0])
        out["n_units"] = 1
        out["method"] = ("valeur publiée pour l'EPCI (La MedNum)" if level == "epci"
                         else f"valeur publiée pour {'la commune' if level == 'commune' else 'l’arrondissement'} (La MedNum)")
    else:
        out["method"] = "aucune valeur publiée pour ce territoire"
    return out


_ifn = territory_ifn  # former private name, kept for callers not yet moved


def headline_figures(bundle, territory_code: Optional[str] = None, year: Optional[int] = None,
                     as_of=None) -> dict:
    """Compute the headline figures of one territory.

    Parameters
    ----------
    bundle : Bundle
        A loaded bundle.
    territory_code : str, optional
        Any territory of the ``territories`` table; the département "13" when omitted.
    year : int, optional
        INSEE population millésime; the latest one of the bundle when omitted.
    as_of : date-like, optional
        Date of the monitoring figures (budget, chronogramme, météo, accompaniments):
        the bundle's ``data_as_of`` or its latest date when omitted.

    Returns
    -------
    dict
        ``territory`` {code, name, level}; ``population`` {value, year} (sum of the
        territory's communes for that millésime; for a département only its own communes);
        for a département ``population_members_total`` {value, year, epci} (sum over the
        EPCI holding its communes, members outside the département included);
        ``ifn`` {value, vintage, method, n_units}; ``lieux`` and ``lieux_per_10k``;
        ``budget`` {planned_eur, committed_eur, paid_eur (Decimal), as_of, scope, note};
        ``actions_by_status`` {status: count} with ``actions_by_status_source``;
        ``tasks_by_state``; ``accompaniments`` {year (the latest year with activities up
        to ``as_of``), value, per_1000, ci_lower, ci_upper (exact Poisson), population_year,
        n_records, complete_year, is_suppressed (a count of people below the disclosure
        threshold is replaced by None, and so is its rate)}; ``is_synthetic`` and ``as_of``.

    Raises
    ------
    ValueError
        For an unknown territory, or a millésime the territory has no population for.
    """
    from fne_eval.evaluate.budget import budget_execution
    from fne_eval.evaluate.indicators import poisson_ci
    from fne_eval.evaluate.meteo import action_meteo
    from fne_eval.evaluate.schedule import task_status
    from fne_eval.core.territory import level_of, territory_name, territory_population

    t = bundle.tables
    territories, populations = t["territories"], t["populations"]
    code = str(territory_code).strip() if territory_code is not None else DEFAULT_TERRITORY
    level = level_of(territories, code)  # ValueError on an unknown code
    if year is None:
        year = int(pd.to_numeric(populations["year"]).max())
    as_of = to_timestamp(as_of) if as_of is not None else _bundle_as_of(bundle)
    pop, pop_year = territory_population(territories, populations, code, int(year))
    fig = {
        "territory": {"code": code, "name": territory_name(territories, code), "level": level},
        "population": {"value": int(pop), "year": int(pop_year)},
    }
    if level == "departement":
        from fne_eval.core.territory import code_membership

        from fne_eval.core.territory import population_by_territory

        m = code_membership(territories)
        epcis = sorted(m.loc[(m["departement_code"] == code).fillna(False), "epci_siren"].dropna().unique())
        pops = population_by_territory(territories, populations, int(year), levels=["epci"]).set_index("territory_code")
        incomplete = [e for e in epcis if e not in pops.index or pops.loc[e, "n_units_missing"] > 0]
        if incomplete:
            raise ValueError(f"population {year} incomplète pour les EPCI {', '.join(incomplete)}")
        parts = {e: int(pops.loc[e, "population"]) for e in epcis}
        fig["population_members_total"] = {
            "value": int(sum(parts.values())), "year": int(pop_year), "epci": {e: int(v) for e, v in parts.items()},
            "note": "Somme des EPCI qui regroupent les communes du département, communes membres hors département comprises",
        }
    fig["ifn"] = territory_ifn(t, territories, code, level)

    lieux = t.get("lieux")
    n_lieux = int(_in_territory(lieux["territory_code"], territories, code, level).sum()) if lieux is not None and len(lieux) else 0
    fig["lieux"] = n_lieux
    fig["lieux_per_10k"] = (n_lieux / pop * PER) if pop else None
    lieux_dates = pd.to_datetime(lieux["date_maj"]) if lieux is not None and len(lieux) else pd.Series(dtype="datetime64[ns]")
    fig["lieux_date"] = lieux_dates.max().strftime("%Y-%m-%d") if len(lieux_dates.dropna()) else None

    lines = t["budget_lines"]
    action_lines = lines[lines["action_code"].notna().to_numpy()]
    tx = t["budget_transactions"]
    tx = tx[tx["budget_line_id"].isin(set(action_lines["budget_line_id"])).to_numpy()] if len(tx) else tx
    ex = budget_execution(action_lines, tx, t["actions"], by="action_code", as_of=as_of, totals=True)
    tot = ex[ex["is_total"]].iloc[0]
    scope = f"budget FNE des {action_lines['action_code'].nunique()} actions de la feuille de route (annexe 6), niveau départemental"
    note = None
    if level != "departement":
        note = ("Le budget FNE n'est pas territorialisé dans la feuille de route : "
                "les montants sont ceux du département, pas de ce territoire.")
    fig["budget"] = {"planned_eur": tot["planned_eur"] if tot["planned_eur"] is not None else Decimal("0.00"),
                     "committed_eur": tot["committed_eur"], "paid_eur": tot["paid_eur"],
                     "commitment_rate_pct": _float(tot["commitment_rate_pct"]),
                     "payment_rate_pct": _float(tot["payment_rate_pct"]),
                     "as_of": as_of.strftime("%Y-%m-%d"), "scope": scope, "note": note}

    meteo = action_meteo(t, as_of)
    counts = meteo["final_status"].value_counts()
    fig["actions_by_status"] = {s: int(counts.get(s, 0)) for s in ("green", "amber", "red", "grey")}
    fig["actions_by_status_source"] = ("météo des actions (statut retenu : décision du COPIL si elle existe, "
                                       f"sinon météo calculée par les règles) au {as_of.strftime('%Y-%m-%d')}, "
                                       "niveau départemental")
    ts = task_status(t["schedule_tasks"], t["schedule_status"], as_of)
    states = ts["state"].value_counts()
    fig["tasks_by_state"] = {s: int(states.get(s, 0)) for s in ("not_started", "in_progress", "done", "late", "cancelled")}

    act = t.get("activities")
    acc = {"year": None, "value": 0, "per_1000": None, "ci_lower": None, "ci_upper": None,
           "population_year": int(pop_year), "n_records": 0}
    if act is not None and len(act):
        dates = pd.to_datetime(act["date"])
        act = act[(dates <= as_of).to_numpy()]
        dates = dates[dates <= as_of]
        if len(act):
            acc_year = int(dates.dt.year.max())
            in_year = act[(dates.dt.year == acc_year).to_numpy()]
            if level == "departement":
                # accompaniments without a commune of residence still took place in the département
                codes = in_year["beneficiary_commune_code"]
                mask = _in_territory(codes, territories, code, level) | codes.isna().to_numpy()
            else:
                mask = _in_territory(in_year["beneficiary_commune_code"], territories, code, level)
            k = int(pd.to_numeric(in_year.loc[mask.to_numpy(), "participants"]).sum())
            lo, hi = poisson_ci(k)
            acc.update(year=acc_year, value=k, n_records=int(mask.sum()),
                       per_1000=k / pop * 1000 if pop else None,
                       ci_lower=lo / pop * 1000 if pop else None, ci_upper=hi / pop * 1000 if pop else None,
                       complete_year=bool(as_of >= pd.Timestamp(acc_year, 12, 31)))
    # publishing rule: a count of people below the threshold is never shown, nor its rate
    from fne_eval.store.disclosure import DEFAULT_THRESHOLD

    acc["is_suppressed"] = bool(0 < acc["value"] < DEFAULT_THRESHOLD)
    if acc["is_suppressed"]:
        acc.update(value=None, per_1000=None, ci_lower=None, ci_upper=None)
    fig["accompaniments"] = acc
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


def figures_to_text(figures: dict) -> str:
    """Return the figures as French text with French number formats."""
    from fne_eval.report.format import fmt_date, fmt_decimal, fmt_eur, fmt_int, fmt_pct

    f = figures
    terr = f["territory"]
    lines = [f"{terr['name']} ({LEVEL_FR.get(terr['level'], terr['level'])}, code {terr['code']})", ""]
    lines.append(f"Population municipale (INSEE, millésime {f['population']['year']}) : "
                 f"{fmt_int(f['population']['value'])} habitants")
    if "population_members_total" in f:
        pm = f["population_members_total"]
        lines.append(f"Population des {len(pm['epci'])} EPCI du département : {fmt_int(pm['value'])} habitants "
                     "(communes membres hors département comprises)")
    ifn = f["ifn"]
    if ifn["value"] is not None:
        lines.append(f"Indice de fragilité numérique (millésime {ifn['vintage']}) : {fmt_decimal(ifn['value'], 2)} — {ifn['method']}")
    else:
        lines.append(f"Indice de fragilité numérique : pas de données ({ifn['method']})")
    date = f" (mise à jour la plus récente : {fmt_date(f['lieux_date'])})" if f.get("lieux_date") else ""
    lines.append(f"Lieux de médiation numérique : {fmt_int(f['lieux'])}{date}, "
                 f"soit {fmt_decimal(f['lieux_per_10k'], 2)} pour 10 000 habitants")
    b = f["budget"]
    lines.append(f"Budget FNE au {fmt_date(b['as_of'])} : prévu {fmt_eur(b['planned_eur'])}, "
                 f"engagé {fmt_eur(b['committed_eur'])} ({fmt_pct(b['commitment_rate_pct'])}), "
                 f"payé {fmt_eur(b['paid_eur'])} ({fmt_pct(b['payment_rate_pct'])}) — {b['scope']}")
    if b.get("note"):
        lines.append(f"  Remarque : {b['note']}")
    st = ", ".join(f"{STATUS_FR[s]} {n}" for s, n in f["actions_by_status"].items())
    lines.append(f"Actions par météo : {st} — {f['actions_by_status_source']}")
    tk = ", ".join(f"{STATE_FR[s]} {n}" for s, n in f["tasks_by_state"].items())
    lines.append(f"Tâches du chronogramme : {tk}")
    a = f["accompaniments"]
    if a["year"] is None:
        lines.append("Accompagnements : pas de données")
    elif a.get("is_suppressed"):
        from fne_eval.store.disclosure import DEFAULT_THRESHOLD

        lines.append(f"Accompagnements {a['year']} : moins de {DEFAULT_THRESHOLD} (secret statistique)")
    else:
        partial = "" if a.get("complete_year") else f" (année incomplète, jusqu'au {fmt_date(f['as_of'])})"
        lines.append(f"Accompagnements {a['year']}{partial} : {fmt_int(a['value'])}, soit "
                     f"{fmt_decimal(a['per_1000'], 1)} pour 1 000 habitants "
                     f"(IC 95 % {fmt_decimal(a['ci_lower'], 1)} – {fmt_decimal(a['ci_upper'], 1)} ; "
                     f"population millésime {a['population_year']})")
    if f.get("is_synthetic"):
        tables = ", ".join(f.get("synthetic_tables") or [])
        lines += ["", f"Attention : données de suivi synthétiques (fictives){' : ' + tables if tables else ''}."]
    return "\n".join(lines)


def cmd_figures(args) -> int:
    """Run ``fne-eval figures``: print the headline figures; exit 1 on an unknown territory."""
    from fne_eval.bundle import load_bundle
    from fne_eval.bundle.io import BundleError

    try:
        bundle = load_bundle(args.bundle) if getattr(args, "bundle", None) else load_bundle()
    except (BundleError, OSError, ValueError) as exc:
        print(f"fne-eval figures : bundle illisible : {exc}", file=sys.stderr)
        return 2
    try:
        figures = headline_figures(bundle, getattr(args, "territory", None), getattr(args, "year", None))
    except ValueError as exc:
        print(f"fne-eval figures : {exc}", file=sys.stderr)
        return 1
    print(figures_to_json(figures) if getattr(args, "json", False) else figures_to_text(figures))
    return 0
