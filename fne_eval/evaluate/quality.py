"""Data-quality findings: what a bundle's figures say that cannot be right, or may not be.

Hard validation (schema, types, keys) stops a run; the findings here do not. They are a
result of the run, shown in a section of their own: impossible ratios, totals that are
not the sum of their parts, codes that are not the codes they claim to be, text mixing
alphabets, figures that disagree between sources or vintages, stale records, duplicates,
dates that go backwards, payments without commitment.

Each rule is a small function of the bundle registered in :data:`RULES` with its French
description (:func:`quality_rules_table`); rules are general (no special case for a known
row): they run on any bundle and find, on the embedded one, the seed's own slips.

Severities: ``error`` (cannot be true: a share above 100 %, a placeholder date, a payment
with no commitment), ``warning`` (probably wrong or to check), ``info`` (worth knowing:
figures of different sources or dates that differ).

Example
-------
>>> from fne_eval.bundle import load_bundle
>>> findings = quality_findings(load_bundle())  # doctest: +SKIP
>>> findings.columns.tolist()  # doctest: +SKIP
['rule', 'severity', 'table', 'key', 'message']
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterable, Optional

import pandas as pd

from fne_eval.bundle.diskcache import shared
from fne_eval.bundle.spec import TABLES
from fne_eval.core.communes import commune_reference
from fne_eval.core.fmt import fmt_date, fmt_decimal, fmt_eur, fmt_int, fmt_pct
from fne_eval.core.paths import DEFAULT_BUNDLE_DIR, ROADMAP_DIR
from fne_eval.ingest.opendata import read_conseillers_numeriques, read_france_services

FINDING_COLUMNS = ["rule", "severity", "table", "key", "message"]
#: Extra column: the territory a finding concerns when its row has one (else empty), so
#: that a report on one territory can keep its own findings.
TERRITORY_COLUMN = "territory_code"
SEVERITIES = ("error", "warning", "info")

#: Lieux older than this many months (before the bundle's ``data_as_of``) are « à vérifier »,
#: older than the second « à actualiser » (the thresholds of Mon Inclusion Numérique).
STALE_MONTHS = (12, 18)
PLACEHOLDER_DATE = pd.Timestamp("1970-01-01")


@dataclass(frozen=True)
class Finding:
    """One data-quality finding."""

    rule: str
    severity: str
    table: str
    key: str
    message: str

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}, expected one of {SEVERITIES}")


@dataclass(frozen=True)
class Rule:
    """A registered data-quality rule."""

    rule_id: str
    description: str  # French
    check: Callable


#: Every rule, in the order findings are listed.
RULES: list = []


def rule(rule_id: str, description: str):
    """Register ``check(ctx) -> iterable of Finding`` as a data-quality rule."""
    def deco(fn):
        RULES.append(Rule(rule_id, description, fn))
        return fn
    return deco


class _Context:
    """The bundle's tables (missing ones empty, per spec) and what the rules share."""

    def __init__(self, bundle, as_of=None, sources_dir=None):
        tables = getattr(bundle, "tables", bundle)
        self.meta = dict(getattr(bundle, "meta", {}) or {})
        self.source = str(getattr(bundle, "source", "") or "")
        self.tables = {}
        for name, spec in TABLES.items():
            df = tables.get(name) if isinstance(tables, dict) else None
            if df is None:
                df = pd.DataFrame({c: pd.Series(dtype="object") for c in spec.column_names})
            missing = [c for c in spec.column_names if c not in df.columns]
            if missing:  # a partial frame: the absent columns count as empty
                df = df.assign(**{c: pd.Series(pd.NA, index=df.index, dtype="object") for c in missing})
            self.tables[name] = df
        as_of = as_of or self.meta.get("data_as_of")
        self.as_of = pd.Timestamp(as_of) if as_of else None
        self.sources_dir = Path(sources_dir) if sources_dir else None

    def __getitem__(self, name):
        return self.tables[name]

    # ------------------------------------------------------------------ reference helpers
    _levels = None
    _names = None
    _territory_maps = None

    def territory_names(self) -> dict:
        if self._names is None:
            t = self["territories"]
            self._names = dict(zip(t["territory_code"].astype(str), t["territory_name"].astype(str))) if len(t) else {}
        return self._names

    def name(self, code) -> str:
        return self.territory_names().get(str(code), str(code))

    def population(self, code, year) -> Optional[int]:
        """Published population of a territory for a millésime, else the sum of its parts."""
        p = self["populations"]
        if not len(p):
            return None
        hit = p[(p["territory_code"].astype(str) == str(code)) & (p["year"] == year)]
        if len(hit):
            return int(hit["population"].iloc[0])
        return None

    def populations_by_year(self, code) -> dict:
        p = self["populations"]
        if not len(p):
            return {}
        hit = p[p["territory_code"].astype(str) == str(code)]
        return {int(y): int(v) for y, v in zip(hit["year"], hit["population"])}

    def local_units(self) -> pd.DataFrame:
        """Communes without arrondissements + arrondissements (they partition the ground)."""
        t = self["territories"]
        if not len(t):
            return t
        has_arm = set(t.loc[t["level"] == "arrondissement", "commune_code"].dropna().astype(str))
        communes = t[(t["level"] == "commune") & ~t["territory_code"].astype(str).isin(has_arm)]
        return pd.concat([communes, t[t["level"] == "arrondissement"]], ignore_index=True)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="string") for c in FINDING_COLUMNS + [TERRITORY_COLUMN]})


@shared(not_when=("sources_dir",))
def quality_findings(bundle, rules: Optional[Iterable[str]] = None, as_of=None,
                     sources_dir=None) -> pd.DataFrame:
    """Run the data-quality rules on a bundle and return their findings.

    Parameters
    ----------
    bundle : Bundle or dict of str to DataFrame
        A loaded bundle (its ``meta["data_as_of"]`` dates the staleness checks), or typed
        tables; missing tables count as empty.
    rules : iterable of str, optional
        Rule ids to run (default: all of :data:`RULES`); an unknown id raises ValueError.
    as_of : str or Timestamp, optional
        Reference date for stale records (default: the bundle's ``data_as_of``; without
        one, the staleness rule is skipped).
    sources_dir : str or Path, optional
        Folder of hand-written source CSVs whose headers and labels are scanned for mixed
        alphabets (default: ``fne_eval/data/roadmap`` when the bundle is the embedded one).

    Returns
    -------
    pandas.DataFrame
        Columns ``rule, severity, table, key, message`` (message in French) and
        ``territory_code`` (the territory of the row concerned, when it has one), one row
        per finding, in the order of :data:`RULES`.
    """
    known = [r.rule_id for r in RULES]
    if rules is not None:
        rules = list(rules)
        unknown = [r for r in rules if r not in known]
        if unknown:
            raise ValueError(f"unknown rule(s) {unknown}, expected among {known}")
    if sources_dir is None:
        src = str(getattr(bundle, "source", "") or "")
        if src and Path(src).resolve() == DEFAULT_BUNDLE_DIR.resolve():
            sources_dir = ROADMAP_DIR
    ctx = _Context(bundle, as_of=as_of, sources_dir=sources_dir)
    out = []
    for r in RULES:
        if rules is not None and r.rule_id not in rules:
            continue
        try:
            out.extend(r.check(ctx) or ())
        except Exception as exc:  # a rule that fails must show, not hide the others
            out.append(Finding(r.rule_id, "warning", "-", "-",
                               f"La règle « {r.description} » n'a pas pu s'exécuter : "
                               f"{type(exc).__name__}: {exc}."))
    if not out:
        return _empty()
    df = pd.DataFrame([f.__dict__ for f in out], columns=FINDING_COLUMNS)
    df[TERRITORY_COLUMN] = [_territory_of(ctx, t, k) for t, k in zip(df["table"], df["key"])]
    return df.astype("string")


#: Table → (key column in the finding's key, column holding the territory).
_TERRITORY_OF = {
    "exposed_communes": ("row_number", "territory_code"),
    "lieux": ("id", "territory_code"),
    "context_figures": ("figure_id", "territory_code"),
    "populations": ("territory_code", "territory_code"),
    "ifn": ("territory_code", "territory_code"),
    "activities": ("activity_id", "beneficiary_commune_code"),
    "refurbishment": ("record_id", "commune_code"),
    "events": ("event_id", "venue_commune_code"),
    "trainings": ("training_id", "commune_code"),
}


def _territory_of(ctx, table: str, key: str):
    """Return the territory of the row a finding's key names, else NA."""
    if table not in _TERRITORY_OF:
        return pd.NA
    col, terr = _TERRITORY_OF[table]
    m = re.match(rf"{col}=([^,]+)", str(key))
    if not m:
        return pd.NA
    if ctx._territory_maps is None:
        ctx._territory_maps = {}
    if table not in ctx._territory_maps:
        df = ctx[table]
        ctx._territory_maps[table] = dict(zip(df[col].astype(str), df[terr])) if len(df) else {}
    v = ctx._territory_maps[table].get(m.group(1).strip())
    return pd.NA if v is None or pd.isna(v) else str(v)


def quality_rules_table() -> pd.DataFrame:
    """Return the registered rules: ``rule`` id and French ``description``."""
    return pd.DataFrame({"rule": [r.rule_id for r in RULES],
                         "description": [r.description for r in RULES]})


def summarize_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """Count findings per rule and severity: ``rule, severity, n_findings`` (+ description)."""
    if not len(findings):
        return pd.DataFrame(columns=["rule", "description", "severity", "n_findings"])
    g = findings.groupby(["rule", "severity"], sort=False).size().rename("n_findings").reset_index()
    desc = quality_rules_table()
    return g.merge(desc, on="rule", how="left", validate="m:1")[["rule", "description", "severity", "n_findings"]]


# =========================================================================== helpers
def _f(rule_id, severity, table, key, message) -> Finding:
    return Finding(rule_id, severity, table, str(key), message)


def _num(x, digits=None) -> str:
    """Format a number for a message: whole numbers grouped, reals with a comma."""
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return "–"
    x = float(x)
    if digits is None:
        digits = 0 if x == int(x) else 1
    return fmt_decimal(x, digits) if digits else fmt_int(x)


def _rounding_tolerance(printed: float) -> float:
    """Half a unit of the last printed digit (0.5 for a whole number, 0.05 for one decimal)."""
    s = repr(float(printed))
    decimals = len(s.split(".")[1].rstrip("0")) if "." in s else 0
    return 0.5 * 10 ** (-decimals) + 1e-9


def _exposed(ctx) -> pd.DataFrame:
    e = ctx["exposed_communes"]
    if not len(e):
        return e
    return e.assign(_total=e["is_total_row"].fillna(False).astype(bool))


def _exposed_label(r) -> str:
    return f"{r['printed_name']}"


def _year_of(text) -> Optional[int]:
    m = re.search(r"(19|20)\d{2}", str(text or ""))
    return int(m.group(0)) if m else None


def _context_rows(ctx, indicator_pattern: str, unit: Optional[str] = None) -> pd.DataFrame:
    c = ctx["context_figures"]
    if not len(c):
        return c
    m = c["indicator"].astype(str).str.contains(indicator_pattern, regex=True, case=False)
    if unit is not None:
        m &= c["unit"].astype(str).str.fullmatch(unit, case=False)
    return c[m]


#: Indicator suffixes of a département-level figure that totals EPCI-level figures.
_TOTAL_SUFFIXES = ("", "_epci_sum", "_total", "_sum")


def _total_for(ctx, base: str, unit, date) -> pd.DataFrame:
    """Département-level context figures that total the EPCI-level ``base`` figures."""
    c = ctx["context_figures"]
    if not len(c):
        return c
    m = c["indicator"].isin([base + s for s in _TOTAL_SUFFIXES]) & (c["reference_date"] == date)
    if unit is not None:
        m &= c["unit"] == unit
    hit = c[m]
    return hit[hit["territory_code"].map(lambda x: _level(ctx, x)) == "departement"]


def _level(ctx, code) -> str:
    if ctx._levels is None:
        t = ctx["territories"]
        ctx._levels = dict(zip(t["territory_code"].astype(str), t["level"].astype(str))) if len(t) else {}
    return ctx._levels.get(str(code), "")


# =========================================================================== rules
# ---------------------------------------------------------------- impossible ratios
@rule("share_above_100", "Part ou taux supérieur à 100 % (impossible pour une part de population)")
def _share_above_100(ctx):
    e = _exposed(ctx)
    for _, r in e.iterrows():
        s = r["printed_share_pct"]
        if pd.notna(s) and s > 100:
            detail = ""
            if pd.notna(r["printed_population"]) and r["printed_population"]:
                ratio = r["printed_fragile_population"] / r["printed_population"] * 100
                detail = (f" : {_num(r['printed_fragile_population'])} personnes fragiles pour une population "
                          f"de {_num(r['printed_population'])}, soit {fmt_pct(ratio, 1)}")
            yield _f("share_above_100", "error", "exposed_communes", f"row_number={r['row_number']}",
                     f"{_exposed_label(r)} : part imprimée {fmt_pct(s, 0)} > 100 %{detail}. "
                     "La population fragile ne peut dépasser la population.")
    c = ctx["context_figures"]
    for _, r in c[c["unit"].astype(str).isin(["pct", "percent", "%"])].iterrows() if len(c) else []:
        if pd.notna(r["value"]) and r["value"] > 100:
            yield _f("share_above_100", "error", "context_figures", f"figure_id={r['figure_id']}",
                     f"« {r['label']} » : {fmt_pct(r['value'], 1)} > 100 %.")
    for name, spec in TABLES.items():
        df = ctx[name]
        key = spec.key
        for col in spec.column_names:
            if col.endswith("_pct") and col != "printed_share_pct" and len(df):
                bad = df[pd.to_numeric(df[col], errors="coerce") > 100]
                for _, r in bad.iterrows():
                    k = ", ".join(f"{c}={r[c]}" for c in key)
                    yield _f("share_above_100", "error", name, k, f"{col} = {fmt_pct(r[col], 1)} > 100 %.")


@rule("share_recomputed", "Part imprimée différente (au-delà de l'arrondi) de la part recalculée numérateur / dénominateur")
def _share_recomputed(ctx):
    e = _exposed(ctx)
    for _, r in e.iterrows():
        p, f, s = r["printed_population"], r["printed_fragile_population"], r["printed_share_pct"]
        if pd.isna(p) or pd.isna(f) or pd.isna(s) or not p:
            continue
        ratio = f / p * 100
        if abs(ratio - s) > _rounding_tolerance(s):
            yield _f("share_recomputed", "warning", "exposed_communes", f"row_number={r['row_number']}",
                     f"{_exposed_label(r)} : part imprimée {fmt_pct(s, 0)}, recalculée "
                     f"{_num(f)} / {_num(p)} = {fmt_pct(ratio, 1)}.")
    # context figures: a printed share of a part vs its value / the total's value
    c = ctx["context_figures"]
    for _, share in _context_rows(ctx, r"_share$", "pct").iterrows():
        base = str(share["indicator"])[: -len("_share")]
        part = c[(c["indicator"] == base) & (c["reference_date"] == share["reference_date"])
                 & (c["territory_code"] == share["territory_code"])]
        totals = _total_for(ctx, base, None, share["reference_date"])
        if len(part) != 1 or len(totals) != 1 or not totals["value"].iloc[0]:
            continue
        ratio = part["value"].iloc[0] / totals["value"].iloc[0] * 100
        if abs(ratio - share["value"]) > _rounding_tolerance(share["value"]):
            yield _f("share_recomputed", "warning", "context_figures", f"figure_id={share['figure_id']}",
                     f"« {share['label']} » : {fmt_pct(share['value'], 1)} imprimé, recalculé "
                     f"{_num(part['value'].iloc[0])} / {_num(totals['value'].iloc[0])} = {fmt_pct(ratio, 2)}.")


# ---------------------------------------------------------------- totals
@rule("total_row", "Ligne de total qui n'est pas ce qu'elle dit (somme ou moyenne de ses lignes)")
def _total_row(ctx):
    e = _exposed(ctx)
    if not len(e) or not e["_total"].any():
        return
    rows = e[~e["_total"]]
    n = len(rows)
    for _, t in e[e["_total"]].iterrows():
        key = f"row_number={t['row_number']}"
        label = t["printed_name"]
        says_mean = bool(re.search(r"moyen", str(label), re.I))
        parts = []
        for col, what in (("printed_population", "population"), ("printed_fragile_population", "population fragile")):
            total, s = t[col], rows[col].sum()
            if pd.isna(total):
                continue
            if total == s:
                parts.append(f"{what} {_num(total)} = somme des {n} lignes")
            else:
                parts.append(f"{what} {_num(total)} ≠ somme des {n} lignes ({_num(s)})")
        ifn_mean = rows["printed_ifn"].mean()
        if pd.notna(t["printed_ifn"]):
            if abs(t["printed_ifn"] - ifn_mean) <= 0.05:
                parts.append(f"IFN {_num(t['printed_ifn'], 1)} = moyenne des lignes")
            else:
                dep = _context_rows(ctx, r"^ifn", None)
                dep = dep[dep["territory_code"].map(lambda x: _level(ctx, x)) == "departement"] if len(dep) else dep
                also = ""
                if len(dep) and abs(dep["value"].iloc[0] - t["printed_ifn"]) <= 0.05:
                    also = f", c'est l'IFN moyen du département ({_num(dep['value'].iloc[0], 1)})"
                parts.append(f"IFN {_num(t['printed_ifn'], 1)} ≠ moyenne des {n} lignes "
                             f"({_num(ifn_mean, 2)}){also}")
        sums_match = all("≠ somme" not in p for p in parts[:2])
        if sums_match and not says_mean:
            continue  # a true total
        severity = "warning"
        verdict = ("la ligne est la somme des lignes listées, pas une moyenne ni le département"
                   if sums_match else "la ligne ne correspond pas à ses lignes")
        dep_pop = ""
        deps = ctx["territories"]
        deps = deps[deps["level"] == "departement"] if len(deps) else deps
        if len(deps):
            dcode = str(deps["territory_code"].iloc[0])
            units = ctx.local_units()
            units = units[units["departement_code"].astype(str) == dcode] if len(units) else units
            pops = ctx["populations"]
            if len(units) and len(pops):
                sel = pops[pops["territory_code"].astype(str).isin(units["territory_code"].astype(str))]
                by_year = sel.groupby("year")["population"].sum()
                if len(by_year):
                    year = _dominant_year(ctx, rows) or int(by_year.index.max())
                    if year in by_year.index:
                        dep_pop = (f" ; la population du département est de {_num(by_year[year])} "
                                   f"(millésime {year})")
        yield _f("total_row", severity, "exposed_communes", key,
                 f"« {label} » : " + " ; ".join(parts) + f" — {verdict}{dep_pop}.")


def _dominant_year(ctx, rows) -> Optional[int]:
    """Return the millésime that most printed populations match, if any."""
    years = []
    for _, r in rows[rows["territory_code"].notna()].iterrows():
        by_year = ctx.populations_by_year(r["territory_code"])
        years += [y for y, v in by_year.items() if v == r["printed_population"]][:1]
    return max(set(years), key=lambda y: (years.count(y), y)) if years else None


@rule("parts_vs_total", "Chiffres dont les parties ne font pas le total annoncé (EPCI et département), ou total d'un autre périmètre")
def _parts_vs_total(ctx):
    c = ctx["context_figures"]
    if not len(c):
        return
    c = c.assign(_level=c["territory_code"].map(lambda x: _level(ctx, x)))
    epci_rows = c[c["_level"] == "epci"]
    for (ind, unit, date), parts in epci_rows.groupby(["indicator", "unit", "reference_date"], dropna=False):
        if str(unit) in ("pct", "percent", "%", "score", "index") or len(parts) < 2:
            continue
        totals = _total_for(ctx, str(ind), unit, date)
        if len(totals) != 1:
            continue
        t = totals.iloc[0]
        total, s = t["value"], parts["value"].sum()
        if abs(total - s) > 0.5:
            yield _f("parts_vs_total", "warning", "context_figures", f"figure_id={t['figure_id']}",
                     f"« {t['label']} » : {_num(total)} ≠ somme des {len(parts)} EPCI ({_num(s)}).")
        yield from _perimeter(ctx, t, total, parts)
    # shares of the same whole must add up to 100 %
    shares = c[c["indicator"].astype(str).str.endswith("_share") & (c["unit"] == "pct") & (c["_level"] == "epci")]
    for (ind, date), g in shares.groupby(["indicator", "reference_date"], dropna=False):
        if len(g) < 2 or len(g) < int((ctx["territories"]["level"] == "epci").sum() if len(ctx["territories"]) else 0):
            continue
        s = g["value"].sum()
        if abs(s - 100) > sum(_rounding_tolerance(v) for v in g["value"]):
            yield _f("parts_vs_total", "warning", "context_figures", f"indicator={ind}",
                     f"Les parts imprimées ({ind}, {date}) totalisent {fmt_pct(s, 1)} au lieu de 100 %.")


def _perimeter(ctx, t, total, parts):
    """Say whether a département-level population total is the département or its EPCI."""
    if "population" not in str(t["indicator"]):
        return
    year = _year_of(t["reference_date"]) or _year_of(t["source"])
    if year is None:
        return
    terr = ctx["territories"]
    pops = ctx["populations"]
    if not len(terr) or not len(pops):
        return
    dcode = str(t["territory_code"])
    units = ctx.local_units()
    py = pops[pops["year"] == year]
    p = pd.Series(py["population"].to_numpy(), index=py["territory_code"].astype(str))
    in_dep = units[units["departement_code"].astype(str) == dcode]["territory_code"].astype(str)
    dep_sum = int(p.reindex(in_dep).fillna(0).sum())
    epcis = set(parts["territory_code"].astype(str))
    members = units[units["epci_siren"].astype(str).isin(epcis)]
    outside = members[members["departement_code"].astype(str) != dcode]
    epci_sum = int(p.reindex(members["territory_code"].astype(str)).fillna(0).sum())
    if abs(total - dep_sum) <= 0.5 or not len(outside):
        return
    if abs(total - epci_sum) <= 0.5 or len(outside):
        names = ", ".join(f"{r['territory_name']} ({r['territory_code']}, {_num(p.get(str(r['territory_code'])))})"
                          for _, r in outside.iterrows())
        how = "égal à" if abs(total - epci_sum) <= 0.5 else "proche de"
        yield _f("parts_vs_total", "warning", "context_figures", f"figure_id={t['figure_id']}",
                 f"« {t['label']} » : {_num(total)} n'est pas la population du département "
                 f"({_num(dep_sum)}, millésime {year}) ; il est {how} la population des {len(epcis)} EPCI "
                 f"({_num(epci_sum)}), qui comprend {len(outside)} communes hors département : {names}.")


# ---------------------------------------------------------------- codes
@rule("postcode_as_code", "Code postal utilisé là où un code INSEE est attendu, ou code partagé par plusieurs lignes")
def _postcode_as_code(ctx):
    ref = commune_reference()
    names = ctx.territory_names()
    insee_codes = set(names) | set(ref["by_code"]) | set(ref["arm_codes"])
    e = _exposed(ctx)
    if len(e):
        rows = e[~e["_total"] & e["printed_postal_code"].notna()]
        for code, g in rows.groupby("printed_postal_code"):
            if len(g) > 1:
                who = ", ".join(f"{r['printed_name']} ({r['territory_code']})" for _, r in g.iterrows())
                yield _f("postcode_as_code", "warning", "exposed_communes", f"printed_postal_code={code}",
                         f"Le code {code} est imprimé pour {len(g)} lignes ({who}) : c'est un code postal "
                         "partagé, il n'identifie pas une commune.")
        n_cp, n_collide = 0, 0
        for _, r in rows.iterrows():
            code, terr = str(r["printed_postal_code"]), r["territory_code"]
            if pd.isna(terr) or code == str(terr):
                continue
            n_cp += 1
            if code in insee_codes:
                n_collide += 1
                yield _f("postcode_as_code", "info", "exposed_communes", f"row_number={r['row_number']}",
                         f"{r['printed_name']} : le code imprimé {code} est un code postal ; lu comme code "
                         f"INSEE il désignerait {names.get(code) or ref['by_code'].get(code, code)} ({code}) au lieu de "
                         f"{names.get(str(terr), terr)} ({terr}).")
        if n_cp:
            yield _f("postcode_as_code", "warning", "exposed_communes", "printed_postal_code",
                     f"La colonne « Code postal » contient des codes postaux : {n_cp} codes sur {len(rows)} ne sont "
                     f"pas le code INSEE de leur commune, dont {n_collide} sont le code INSEE d'une autre commune ; "
                     "ne pas l'utiliser comme clé (le code INSEE résolu est dans territory_code).")
    lx = ctx["lieux"]
    if len(lx):
        for _, r in lx[lx["code_insee"].notna()].iterrows():
            code, terr = str(r["code_insee"]), str(r["territory_code"])
            parent = ref["arm_codes"].get(terr, terr)
            if code in (terr, parent):
                continue
            is_cp = code == str(r["code_postal"]) or code in ref["by_cp"]
            what = "un code postal" if is_cp else "un autre territoire"
            yield _f("postcode_as_code", "warning", "lieux", f"id={r['id']}",
                     f"Lieu « {r['nom']} » ({r['commune']}) : code_insee {code} est {what}, "
                     f"pas le code de sa commune ({parent}).")


# ---------------------------------------------------------------- mixed alphabets
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def _scripts(word: str) -> dict:
    """Return ``script → letters`` for the letters of ``word``."""
    out = {}
    for ch in word:
        if not ch.isalpha():
            continue
        try:
            script = unicodedata.name(ch).split(" ")[0]
        except ValueError:
            continue
        if script in _SCRIPTS:
            out.setdefault(script, []).append(ch)
    return out


_NON_LATIN_RE = "[\u0370-\u03ff\u1f00-\u1fff\u0400-\u052f]"
_SCRIPT_FR = {"LATIN": "latin", "CYRILLIC": "cyrillique", "GREEK": "grec"}


def mixed_script_words(text) -> list:
    """Return the words of ``text`` that mix Latin, Cyrillic or Greek letters.

    >>> mixed_script_words("Budget FNE Réциpiendaire")
    ['Réциpiendaire']
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return []
    return [w for w in re.findall(r"\w+", str(text)) if len(_scripts(w)) > 1]


def _mixed_message(word: str) -> str:
    sc = _scripts(word)
    foreign = [ch for s, chs in sc.items() if s != "LATIN" for ch in chs]
    letters = ", ".join(f"{ch} U+{ord(ch):04X}" for ch in dict.fromkeys(foreign))
    return (f"« {word} » mêle les alphabets {' et '.join(_SCRIPT_FR[s] for s in sc)} "
            f"({letters}) : le mot ne sera pas trouvé par une recherche.")


@rule("mixed_scripts", "Texte mêlant plusieurs alphabets (latin et cyrillique ou grec) dans un mot ou un en-tête")
def _mixed_scripts(ctx):
    for name, spec in TABLES.items():
        df = ctx[name]
        if not len(df):
            continue
        for col in spec.columns:
            if col.kind not in ("str", "code", "list") or col.name not in df.columns:
                continue
            s = df[col.name]
            s = s[s.notna()].astype(str)
            s = s[s.str.contains(_NON_LATIN_RE, regex=True)]  # fast pre-filter: Greek or Cyrillic letters
            hits = s[s.map(lambda v: bool(mixed_script_words(v)))]
            for idx, v in hits.items():
                key = ", ".join(f"{k}={df.at[idx, k]}" for k in spec.key)
                for w in mixed_script_words(v):
                    yield _f("mixed_scripts", "warning", name, f"{key}, colonne {col.name}", _mixed_message(w))
    if ctx.sources_dir and ctx.sources_dir.is_dir():
        for path in sorted(ctx.sources_dir.glob("*.csv")):
            text = path.read_text(encoding="utf-8-sig", errors="replace")
            lines = text.splitlines()
            for i, line in enumerate(lines, start=1):
                for w in dict.fromkeys(mixed_script_words(line)):
                    where = "en-tête" if i == 1 else f"ligne {i}"
                    yield _f("mixed_scripts", "warning", f"source:{path.name}", where, _mixed_message(w))


# ---------------------------------------------------------------- sources and vintages
@rule("vintage_mismatch", "Population imprimée qui ne correspond à aucun millésime INSEE, ou millésimes mélangés")
def _vintage_mismatch(ctx):
    e = _exposed(ctx)
    if not len(e) or not len(ctx["populations"]):
        return
    matched = {}
    for _, r in e[~e["_total"] & e["territory_code"].notna()].iterrows():
        by_year = ctx.populations_by_year(r["territory_code"])
        if not by_year:
            continue
        printed = int(r["printed_population"])
        years = sorted(y for y, v in by_year.items() if v == printed)
        if years:
            matched.setdefault(years[0], []).append(r["printed_name"])
            continue
        near = " ; ".join(f"{y} : {_num(v)}" for y, v in sorted(by_year.items()))
        yield _f("vintage_mismatch", "warning", "exposed_communes", f"row_number={r['row_number']}",
                 f"{r['printed_name']} : population imprimée {_num(printed)}, ne correspond à aucun millésime "
                 f"({near}).")
    if len(matched) > 1:
        parts = " ; ".join(f"millésime {y} pour {len(v)} lignes ({', '.join(v) if len(v) <= 8 else ', '.join(v[:8]) + '…'})"
                           for y, v in sorted(matched.items()))
        yield _f("vintage_mismatch", "info", "exposed_communes", "printed_population",
                 f"Les populations imprimées mélangent les millésimes : {parts}.")


@rule("ifn_mismatch", "IFN imprimé différent de la table IFN du territoire")
def _ifn_mismatch(ctx):
    e = _exposed(ctx)
    ifn = ctx["ifn"]
    if not len(e) or not len(ifn):
        return
    table = ifn.dropna(subset=["ifn_total"]).drop_duplicates("territory_code").set_index(
        ifn.dropna(subset=["ifn_total"]).drop_duplicates("territory_code")["territory_code"].astype(str))
    rows = e[~e["_total"] & e["territory_code"].notna()]
    n_diff, n_cmp = 0, 0
    for _, r in rows.iterrows():
        code = str(r["territory_code"])
        if code not in table.index or pd.isna(r["printed_ifn"]):
            continue
        n_cmp += 1
        v = float(table.at[code, "ifn_total"])
        if abs(round(v, 1) - r["printed_ifn"]) > _rounding_tolerance(r["printed_ifn"]):
            n_diff += 1
            yield _f("ifn_mismatch", "info", "exposed_communes", f"row_number={r['row_number']}",
                     f"{r['printed_name']} : IFN imprimé {_num(r['printed_ifn'], 1)}, table IFN "
                     f"{_num(v, 2)} ({table.at[code, 'vintage']}).")
    if n_diff:
        yield _f("ifn_mismatch", "info", "exposed_communes", "printed_ifn",
                 f"{n_diff} IFN imprimés sur {n_cmp} diffèrent de la table IFN (autre millésime ou variante de l'indice).")
    c = _context_rows(ctx, r"^ifn")
    for _, r in c.iterrows():
        code = str(r["territory_code"])
        if code in table.index:
            v = float(table.at[code, "ifn_total"])
            if abs(round(v, 1) - r["value"]) > _rounding_tolerance(r["value"]):
                yield _f("ifn_mismatch", "info", "context_figures", f"figure_id={r['figure_id']}",
                         f"« {r['label']} » : {_num(r['value'], 1)} imprimé, table IFN {_num(v, 2)}.")


@rule("epci_population_vs_members", "Population publiée d'un EPCI différente de la somme de ses communes membres")
def _epci_population(ctx):
    # one pass over the populations (grouped by EPCI and year), not one filter per EPCI: a national
    # bundle has 1 255 EPCI and 35 000 communes (23 s → well under 1 s); same findings, same order
    t, p = ctx["territories"], ctx["populations"]
    if not len(t) or not len(p):
        return
    units = ctx.local_units()
    pv = p.assign(territory_code=p["territory_code"].astype(str))
    member_of = pd.DataFrame({"member": units["territory_code"].astype(str).to_numpy(),
                              "epci": units["epci_siren"].astype(str).to_numpy()})
    n_members = member_of.groupby("epci").size().to_dict()
    pairs = member_of.drop_duplicates()
    joined = pv[["territory_code", "year", "population"]].merge(pairs, left_on="territory_code", right_on="member")
    by_year = joined.groupby(["epci", "year"])["population"].agg(["size", "sum"])
    counts = {k: (int(n), v) for k, n, v in zip(by_year.index, by_year["size"], by_year["sum"])}
    published = pv.groupby("territory_code", sort=False).indices
    for _, epci in t[t["level"] == "epci"].iterrows():
        code = str(epci["territory_code"])
        n_member = n_members.get(code, 0)
        if not n_member:
            continue
        for _, row in pv.iloc[published.get(code, [])].iterrows():
            year = row["year"]
            n, total = counts.get((code, year), (0, 0))
            if n < n_member:
                missing = n_member - n
                yield _f("epci_population_vs_members", "info", "populations", f"territory_code={code}, year={year}",
                         f"{epci['territory_name']} : {missing} communes membres sans population {year}, "
                         "somme non comparable.")
                continue
            s = int(total)
            if s != int(row["population"]):
                yield _f("epci_population_vs_members", "warning", "populations", f"territory_code={code}, year={year}",
                         f"{epci['territory_name']} : population publiée {_num(row['population'])} (millésime {year}) "
                         f"≠ somme des {n_member} communes membres ({_num(s)}), écart {_num(int(row['population']) - s)}.")


def _codes_within(ctx, code) -> set:
    """Return the territory codes inside ``code`` (itself, its communes and arrondissements)."""
    code = str(code)
    t = ctx["territories"]
    if not len(t):
        return {code}
    tc = t["territory_code"].astype(str)
    inside = (tc == code) | (t["departement_code"].astype(str) == code) | (t["epci_siren"].astype(str) == code) \
        | (t["commune_code"].astype(str) == code)
    return set(tc[inside]) | {code}


def _count_lieux(lieux, dispositif=None, itinerant=False) -> int:
    if not len(lieux):
        return 0
    m = pd.Series(True, index=lieux.index)
    if dispositif:
        m &= lieux["dispositif_programmes_nationaux"].fillna("").str.contains(dispositif, regex=False)
    if itinerant:
        m &= lieux["itinerance"].fillna("").str.contains("Itinérant", regex=False)
    return int(m.sum())


def _reference_counts(territory_code: str) -> dict:
    """Counts for a territory from the real sample files shipped with the package.

    The samples (PROVENANCE.md section 3) cover one département; a territory they do not
    cover gets no count (never a count of another territory).
    """
    code = str(territory_code)

    def inside(df) -> pd.DataFrame:
        terr = df["territory_code"].astype(str)
        m = terr.str.startswith(code) if len(code) <= 3 else (terr == code)
        if "epci_siren" in df.columns and len(code) == 9:
            m = df["epci_siren"].astype(str) == code
        return df[m]

    out = {}
    try:
        fs = inside(read_france_services())
        if len(fs):
            out["france_services"] = (len(fs), "liste ANCT des France services (extrait du 2023-07-07)")
            out["france_services_itinerant"] = (_count_lieux(fs, itinerant=True),
                                                "liste ANCT des France services (2023-07-07)")
    except (OSError, ValueError):
        pass
    try:
        cn = inside(read_conseillers_numeriques())
        if len(cn):
            src = "tableau de bord conseiller-numerique.gouv.fr (2023-07-25)"
            out["conseillers_valides"] = (int(cn["n_postes_attribues"].sum()), src + ", postes attribués")
            out["conseillers_en_poste"] = (int(cn["n_recrutes"].sum()), src + ", conseillers recrutés")
    except (OSError, ValueError):
        pass
    return out


#: Context figure indicator (regular expression) → what to compare it with.
_CONTEXT_COMPARISONS = (
    (r"^lieux", "lieux"),
    (r"france_services(_count)?$", "france_services"),
    (r"france_services.*itinerant|itinerant", "france_services_itinerant"),
    (r"conseillers?.*(valid|attribu)", "conseillers_valides"),
    (r"conseillers?.*(en_poste|recrut)", "conseillers_en_poste"),
    (r"^(nb_)?communes(_count|_total|_studied)?$", "communes"),
)


@rule("figures_disagree", "Chiffres d'une même chose qui diffèrent entre sources ou dates")
def _figures_disagree(ctx):
    c = ctx["context_figures"]
    if not len(c):
        return
    ref = None
    lieux = ctx["lieux"]
    for _, r in c.iterrows():
        ind = str(r["indicator"])
        for pattern, what in _CONTEXT_COMPARISONS:
            if not re.search(pattern, ind, re.I):
                continue
            printed = r["value"]
            if what == "lieux":
                if "intervention" in ind or "conseill" in ind:
                    break
                inside = lieux[lieux["territory_code"].astype(str).isin(_codes_within(ctx, r["territory_code"]))] \
                    if len(lieux) else lieux
                n = len(inside)
                if n and n != printed:
                    dates = inside["date_maj"].dropna()
                    dates = dates[dates > PLACEHOLDER_DATE]
                    when = f", mis à jour au plus tard le {fmt_date(dates.max())}" if len(dates) else ""
                    yield _f("figures_disagree", "info", "context_figures", f"figure_id={r['figure_id']}",
                             f"« {r['label']} » : {_num(printed)} ({r['source']}) ; la table des lieux du jeu de "
                             f"données en compte {_num(n)}{when}.")
                break
            if what == "communes":
                t = ctx["territories"]
                if not len(t):
                    break
                dcode = str(r["territory_code"])
                n_com = int(((t["level"] == "commune") & (t["departement_code"].astype(str) == dcode)).sum())
                n_arm = int(((t["level"] == "arrondissement") & (t["departement_code"].astype(str) == dcode)).sum())
                if n_com and printed not in (n_com, n_com + n_arm, n_com - 1 + n_arm):
                    yield _f("figures_disagree", "warning", "context_figures", f"figure_id={r['figure_id']}",
                             f"« {r['label']} » : {_num(printed)} communes ; le référentiel en compte {_num(n_com)} "
                             f"(plus {_num(n_arm)} arrondissements de Marseille) : aucun découpage ne donne {_num(printed)}.")
                break
            if ref is None:
                ref = {}
            if r["territory_code"] not in ref:
                ref[r["territory_code"]] = _reference_counts(r["territory_code"])
            ref_t = ref[r["territory_code"]]
            if what in ref_t:
                n, src = ref_t[what]
                if n != printed:
                    extra = ""
                    if what == "france_services" and len(lieux):
                        extra = (f" ; la table des lieux en compte {_num(_count_lieux(lieux, 'France Services'))} "
                                 "avec le dispositif France Services")
                    yield _f("figures_disagree", "info", "context_figures", f"figure_id={r['figure_id']}",
                             f"« {r['label']} » : {_num(printed)} ({r['source']}) ; {src} : {_num(n)}{extra}.")
            break
    # the population figures of the context vs the populations table
    for _, r in _context_rows(ctx, r"^population$|^population_", "persons|habitants|inhabitants").iterrows():
        by_year = ctx.populations_by_year(r["territory_code"])
        year = _year_of(r["reference_date"])
        if not by_year or year is None:
            continue
        if by_year.get(year) == r["value"]:
            continue
        same = [y for y, v in by_year.items() if v == r["value"]]
        if same:
            msg = f"correspond au millésime {same[0]}, pas à {year}"
        else:
            msg = "ne correspond à aucun millésime (" + " ; ".join(f"{y} : {_num(v)}" for y, v in sorted(by_year.items())) + ")"
        yield _f("figures_disagree", "warning", "context_figures", f"figure_id={r['figure_id']}",
                 f"« {r['label']} » : {_num(r['value'])} {msg}.")
    # the exposed communes: count in the text vs rows in the annex
    e = _exposed(ctx)
    n_rows = int((~e["_total"]).sum()) if len(e) else 0
    for _, r in _context_rows(ctx, r"exposed.*communes|communes.*(?:exposed|above)").iterrows():
        if n_rows and r["value"] != n_rows:
            yield _f("figures_disagree", "warning", "context_figures", f"figure_id={r['figure_id']}",
                     f"« {r['label']} » : {_num(r['value'])} ; l'annexe des communes exposées en liste {n_rows}.")


# ---------------------------------------------------------------- stale records
def _months_between(a: pd.Timestamp, b: pd.Timestamp) -> int:
    """Whole months from ``a`` to ``b``."""
    m = (b.year - a.year) * 12 + (b.month - a.month)
    return m - (1 if b.day < a.day else 0)


@rule("stale_lieux", "Lieux dont la mise à jour est ancienne (12 mois : à vérifier ; 18 mois : à actualiser) ou factice")
def _stale_lieux(ctx):
    lx = ctx["lieux"]
    if not len(lx):
        return
    as_of = ctx.as_of
    for _, r in lx.iterrows():
        d = r["date_maj"]
        key = f"id={r['id']}"
        if pd.isna(d):
            yield _f("stale_lieux", "error", "lieux", key, f"Lieu « {r['nom']} » ({r['commune']}) : date de mise à jour absente.")
            continue
        d = pd.Timestamp(d)
        if d == PLACEHOLDER_DATE:
            yield _f("stale_lieux", "error", "lieux", key,
                     f"Lieu « {r['nom']} » ({r['commune']}) : date factice 01/01/1970 (date de mise à jour inconnue).")
            continue
        if as_of is None:
            continue
        if d > as_of:
            yield _f("stale_lieux", "warning", "lieux", key,
                     f"Lieu « {r['nom']} » ({r['commune']}) : mise à jour le {fmt_date(d)}, après la date des données "
                     f"({fmt_date(as_of)}).")
            continue
        months = _months_between(d, as_of)
        if months >= STALE_MONTHS[1]:
            yield _f("stale_lieux", "warning", "lieux", key,
                     f"Lieu « {r['nom']} » ({r['commune']}) : à actualiser, mis à jour le {fmt_date(d)} "
                     f"({months} mois avant le {fmt_date(as_of)}).")
        elif months >= STALE_MONTHS[0]:
            yield _f("stale_lieux", "warning", "lieux", key,
                     f"Lieu « {r['nom']} » ({r['commune']}) : à vérifier, mis à jour le {fmt_date(d)} "
                     f"({months} mois avant le {fmt_date(as_of)}).")


# ---------------------------------------------------------------- duplicates
def _norm_text(s) -> str:
    s = unicodedata.normalize("NFKD", str(s)).encode("ascii", "ignore").decode().lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", s).split())


@rule("duplicates", "Doublons : même lieu (nom et commune), même SIRET pivot sur plusieurs lieux, même activité deux fois, clé répétée")
def _duplicates(ctx):
    for name, spec in TABLES.items():
        df = ctx[name]
        if len(df) and all(k in df.columns for k in spec.key):
            dup = df[df.duplicated(list(spec.key), keep=False)]
            for k, g in dup.groupby(list(spec.key), dropna=False):
                k = k if isinstance(k, tuple) else (k,)
                yield _f("duplicates", "error", name, ", ".join(f"{c}={v}" for c, v in zip(spec.key, k)),
                         f"Clé répétée {len(g)} fois dans la table {name}.")
    lx = ctx["lieux"]
    if len(lx):
        norm = lx.assign(_n=lx["nom"].map(_norm_text), _t=lx["territory_code"].astype(str))
        for (n, t), g in norm[norm.duplicated(["_n", "_t"], keep=False)].groupby(["_n", "_t"]):
            ids = ", ".join(g["id"].astype(str))
            same_addr = g["adresse"].fillna("").map(_norm_text).nunique() == 1
            yield _f("duplicates", "warning", "lieux", f"id={ids}",
                     f"{len(g)} lieux « {g['nom'].iloc[0]} » dans le même territoire ({ctx.name(t)})"
                     + (" à la même adresse" if same_addr else " à des adresses différentes") + " : doublon possible.")
        piv = lx[lx["pivot"].notna() & (lx["pivot"].astype(str).str.strip() != "")]
        for p, g in piv.groupby("pivot"):
            if len(g) < 2:
                continue
            if re.fullmatch(r"0+", str(p)):
                yield _f("duplicates", "warning", "lieux", f"pivot={p}",
                         f"{len(g)} lieux portent le pivot factice {p} (SIRET non renseigné) : "
                         "la structure porteuse ne peut pas être identifiée.")
            else:
                names = g["nom"].astype(str).unique()
                shown = ", ".join(f"« {x} »" for x in names[:5]) + ("…" if len(names) > 5 else "")
                yield _f("duplicates", "info", "lieux", f"pivot={p}",
                         f"Le SIRET/RNA {p} est porté par {len(g)} lieux ({shown}) : une même structure pour "
                         "plusieurs lieux, ou un pivot recopié.")
    acts = ctx["activities"]
    if len(acts):
        cols = [c for c in TABLES["activities"].column_names if c != "activity_id" and c in acts.columns]
        dup = acts[acts.astype(str).duplicated(cols, keep=False)]
        for _, g in dup.astype(str).groupby(cols, dropna=False):
            if len(g) > 1:
                yield _f("duplicates", "warning", "activities", "activity_id=" + ", ".join(g["activity_id"]),
                         f"{len(g)} activités identiques (même date, lieu, médiateur, type, durée, thèmes, public) : "
                         "saisie en double possible.")


# ---------------------------------------------------------------- dates going backwards
@rule("dates_backwards", "Dates qui reculent : fin avant début, ou tâche datée avant les étapes qui la précèdent")
def _dates_backwards(ctx):
    for table, start, end, key in (("schedule_tasks", "planned_start", "planned_end", "task_id"),
                                   ("actions", "start_date", "end_date", "action_code")):
        df = ctx[table]
        if not len(df):
            continue
        bad = df[df[end].notna() & df[start].notna() & (df[end] < df[start])]
        for _, r in bad.iterrows():
            yield _f("dates_backwards", "error", table, f"{key}={r[key]}",
                     f"Fin prévue {fmt_date(r[end])} avant le début prévu {fmt_date(r[start])}.")
    tasks = ctx["schedule_tasks"]
    if not len(tasks):
        return
    # one printed calendar = the first « title » of the source, per axis; an item repeated
    # for several actions (same label and window) is one printed item
    doc = tasks["source"].astype(str).map(_document_of)
    axis = tasks["action_code"].astype(str).str.split(".").str[0]
    t = tasks.assign(_doc=doc, _axis=axis)
    t = t.drop_duplicates(["_doc", "_axis", "task_label", "planned_start", "planned_end"])
    for (d, ax), g in t.groupby(["_doc", "_axis"], sort=False):
        latest = None
        for _, r in g.iterrows():  # in the order the calendar prints them
            s = r["planned_start"]
            if pd.isna(s):
                continue
            if latest is not None and (latest["planned_start"] - s).days > 90:
                yield _f("dates_backwards", "warning", "schedule_tasks", f"task_id={r['task_id']}",
                         f"Action {r['action_code']} : « {r['task_label']} » est prévue à partir du {fmt_date(s)}, "
                         f"mais imprimée après « {latest['task_label']} » (à partir du "
                         f"{fmt_date(latest['planned_start'])}) dans « {d} » : année à vérifier.")
            if latest is None or s > latest["planned_start"]:
                latest = r


def _document_of(source: str) -> str:
    m = re.search(r"«\s*([^»]+?)\s*»", source)
    return m.group(1) if m else source


# ---------------------------------------------------------------- budget
@rule("payment_without_commitment", "Paiements sans engagement, au-delà de l'engagé ou avant lui ; engagements au-delà du prévu")
def _payments(ctx):
    tx = ctx["budget_transactions"]
    if not len(tx):
        return
    lines = ctx["budget_lines"]
    planned = dict(zip(lines["budget_line_id"].astype(str), lines["planned_eur"])) if len(lines) else {}
    for line, g in tx.groupby("budget_line_id", sort=True):
        com = g[g["kind"] == "commitment"]
        pay = g[g["kind"] == "payment"]
        c_sum = sum((Decimal(str(v)) for v in com["amount_eur"] if v is not None), Decimal("0"))
        p_sum = sum((Decimal(str(v)) for v in pay["amount_eur"] if v is not None), Decimal("0"))
        key = f"budget_line_id={line}"
        if len(pay) and not len(com):
            yield _f("payment_without_commitment", "error", "budget_transactions", key,
                     f"Ligne {line} : {len(pay)} paiement(s) pour {_eur(p_sum)} sans aucun engagement.")
            continue
        if p_sum > c_sum:
            yield _f("payment_without_commitment", "error", "budget_transactions", key,
                     f"Ligne {line} : payé {_eur(p_sum)} > engagé {_eur(c_sum)}.")
        if len(pay) and len(com) and pay["date"].min() < com["date"].min():
            yield _f("payment_without_commitment", "warning", "budget_transactions", key,
                     f"Ligne {line} : premier paiement le {fmt_date(pay['date'].min())}, avant le premier "
                     f"engagement ({fmt_date(com['date'].min())}).")
        plan = planned.get(str(line))
        if plan is not None and not (isinstance(plan, float) and pd.isna(plan)) and c_sum > Decimal(str(plan)):
            yield _f("payment_without_commitment", "warning", "budget_transactions", key,
                     f"Ligne {line} : engagé {_eur(c_sum)} > prévu {_eur(plan)}.")


def _eur(v) -> str:
    return fmt_eur(v)
