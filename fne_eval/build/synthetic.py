"""Generate the synthetic monitoring tables of the embedded bundle, seeded and vectorised.

The roadmap's monitoring data (accompaniments, budget transactions, schedule status points,
training departures, refurbished devices, events, network meetings) do not exist yet in an
open form. The embedded bundle therefore carries **synthetic** monitoring tables, made here
from the real reference and roadmap tables (territories, populations, IFN, lieux, actions,
budget lines, chronogramme, exposed communes). Every page that shows them says they are
synthetic. Nothing here is a measurement; this docstring is the log of the assumptions.

Determinism
-----------
Everything is drawn from :func:`numpy.random.default_rng` seeded with ``[seed, stream]``,
one stream per table, so the same inputs and seed give identical frames, and changing how
one table is drawn does not change the others. No global random state, no wall clock.
All array work is vectorised (no Python loop per row): :func:`generate_activities` makes
10 million rows in 30 to 45 s (depending on the load) on one core of the shared 2-core
machine (national territories, 7 865 placeholder lieux, ``compact=True``: 0,6 GB frame,
1,5-1,7 GB peak; with string columns 2,7 GB frame, 3,7 GB peak). For territories without a lieux file
(national runs), :func:`synthetic_lieux` places one placeholder lieu per
:data:`INHABITANTS_PER_LIEU` inhabitants (the Bouches-du-Rhône sample's ratio).

activities (La Coop record model, DOMAIN.md b2)
-----------------------------------------------
- **Volume.** Each lieu has a base volume ``v`` (log-normal, sigma 0.5, mean 1, raised by
  8 % per IFN point above 5: more need, more demand). The expected number of records of a
  lieu in a month is ``BASE_MONTHLY_ACTIVITIES * scale * v * growth * season * exposure *
  days``: ``growth = exp(ANNUAL_LOG_GROWTH * years since start)`` (+20 % a year in log),
  ``season`` the monthly profile :data:`SEASONALITY` (August at about half of October,
  July and December low), ``days`` the share of the month's open days inside
  ``[start, end]``. With ``n`` given, exactly ``n`` rows are spread over the (lieu, month)
  cells by a multinomial draw with those weights; with ``n=None`` the total is the
  expected count, rounded.
- **Reporting completeness.** A lieu starts reporting at an onboarding month (60 % from
  the start, the others spread uniformly over the following 23 months, as La Coop was
  rolled out), 4 % stop reporting at a random month, and in each month a reporting lieu
  files its records with its own probability (Beta(8, 1.5), mean 0.84). A lieu-month
  that does not report has no row at all, so completeness (share of lieux with >= 1 row
  in a period) is measurable and below 100 %.
- **Dates.** Days are open days (Monday to Saturday, French public holidays excluded),
  Saturdays carrying 6 % of the records. Rows are sorted by date then lieu;
  ``activity_id`` is ``A`` + a zero-padded sequence number in that order.
- **Type and size.** Each lieu has its own share of collective workshops (Beta(2, 8),
  mean 20 %): about 80 % of records are ``individuel`` with 1 participant, 20 %
  ``collectif`` with 3 + Binomial(12, 0.3) participants (3 to 15, mean 6.6).
- **Duration** from La Coop's presets 15/30/45/60/90/120 min (individual mostly 30-60,
  workshops mostly 60-120).
- **Themes**: 1 to 3 distinct values of :data:`~fne_eval.bundle.spec.THEMES` (55 % one,
  30 % two, 15 % three) drawn with :data:`THEME_WEIGHTS` (aide aux démarches
  administratives and prise en main du matériel dominate); ``associations`` exists only
  from 2025-05-01 (added to La Coop then) and is replaced by ``aide_aux_demarches_
  administratives`` before. Joined with ``|`` in the spec's order.
- **Beneficiary commune**: the lieu's commune or arrondissement (82 %), a local unit of
  the same EPCI drawn in proportion to its population (15 %; no geometry is used, so
  "neighbouring" means "same EPCI"; for a Marseille arrondissement, an arrondissement of
  Marseille), unknown (3 %).
- **Age band, gender, social status** (one value per record, as La Coop's anonymous
  participants): age bands follow :data:`AGE_WEIGHTS`, with the 60-69 and 70+ bands
  multiplied by ``0.5 + 0.1 * older_65_rate`` (the IFN sub-score of the lieu's unit, 0-10):
  more seniors where the population is older; workshops declare "non communiqué" more
  often. Social status depends on the age band (:data:`STATUS_BY_AGE`: ``retraite`` for
  most people over 60, ``scolarise`` for minors). Gender: 55 % women, 40 % men, 5 % not
  given (workshops 45/30/25).
- **Mediators**: each lieu has 1 to 3 pseudonymous mediators (``M0001``...), no names.
- **Double entries**: 0.05 % of the records repeat the previous record of the same lieu
  and day (new ``activity_id``), as a mediator saving a record twice would; the
  data-quality rules should find them.
- **Place type**: mostly ``lieu_activite``; ``lieu_id`` is set on every row (the lieu the
  mediator reports from), unlike La Coop, which leaves it empty outside ``lieu_activite``,
  so that every record has a territory and completeness per lieu is measurable.
- **Exposed-commune effect (synthetic assumption).** For lieux in the roadmap's exposed
  communes (Annexe 3), the volume grows by an extra ``exp(exposed_effect * years since
  the start of action 1.2)`` (default ``exposed_effect = 0.10`` log-growth a year), so an
  impact estimate has something to find. It is a built-in assumption of the synthetic
  data, not a finding; pass ``exposed_effect=0`` for data with no built-in effect.

budget_transactions
-------------------
Per budget line with a planned amount: 1-2 commitments (conventions ``CONV-<year>-<nn>``)
dated after the budget was allocated (30 June 2024) and the action's start, totalling at
most the planned amount: most lines fully committed, one under-committed (60-85 %), a
few at 90-99 %; payments (``MAND-<year>-<nnn>``) never above their commitment and dated
after it (an advance of 50 % after 1-3 months, the balance after 8-14 months), two lines
not paid yet. Action 1.1 (done) is committed and fully paid in 2024. The training fund
line has no planned amount in the roadmap: the generator commits an envelope of
:data:`TRAINING_FUND_ENVELOPE_EUR` (60 departures x :data:`TRAINING_COST_PER_DEPARTURE_EUR`,
an assumption) and pays each quarter the fund departures of the quarter at that unit cost.
All amounts are :class:`decimal.Decimal` exact to the cent.

schedule_status
---------------
Quarterly status points (quarter ends up to ``as_of``) per task of the chronogramme, from
the quarter before the planned start. Scenarios (drawn once per task): tasks planned to end
before the roadmap's adoption (September 2024) are done on time, as the roadmap reports;
among the others, one task not started although due (preferably one whose whole window
lies in the last 18 months), one done a month or more early, about 40 % late by 1 to 4
months, the others on time. ``progress_pct`` grows linearly between actual start and (expected) end, in steps
of 5.

trainings
---------
Departures from 2024-09 to ``as_of``: the FNE training fund (agents of collectivités and
other structures outside OPCO Uniformation; Aidants Connect or médiation numérique) with a
total of 42-54 departures by 2026-10-31 (the 60-departure objective not yet reached; the
same pace goes on after that date, so a later ``as_of`` may reach it), and other
departures (conseillers numériques' continuing training, OPCO Uniformation, accessibility
training of action 1.4), in sessions of 1 to 4 departures spread evenly over the seasonal
profile, on open days. The sessions are drawn up to at least 2026-10-31 and cut at
``as_of``, so an earlier ``as_of`` shows a prefix of the same history (the same holds for
events and meetings). Structures are organisations named in the seed.

refurbishment
-------------
Monthly records from 2025-03 (action 2.1's experiments) for 3 to 5 of the operators the
seed names (La Verrerie, Arles; Emmaüs Connect, Marseille; Ecodair, Marseille; Eva 3D,
Vitrolles; Anonymal, Aix-en-Provence), starting at staggered months;
distributed <= refurbished <= collected in every record. The seed says only "Marseille"
for Ecodair and Emmaüs Connect: they are placed in an arrondissement (13203, 13201) so
figures add up at every level; these are not their addresses.

events and network_meetings
---------------------------
Events: Des Clics et des Livres (October 2024 and October 2025, action 3.1), the tour of
the two exhibitions (action 3.2) starting at Aix-en-Provence in spring 2025, the
accessibility webinars of action 1.4 (one with fewer than 5 participants, so that
disclosure control has something to hide), the journées d'échanges of action 1.2.
Meetings: the dates the seed gives for 2023-2024 (COPIL 23/11/2023, COTHEC 13/12/2023 and
09/01/2024, synthesis 24/01/2024), the June-July 2024 concertations, then from December
2024 COPIL, COTHEC, semestrial meetings and working groups for actions 1.1-1.5, 2.1, 4.1, 4.2,
with participants by structure type (some cells 0-4). Participant counts are synthetic.
Venue communes are chosen for the synthetic data, not taken from the seed, unless it says.

No personal data is generated: no names of people, e-mails or phone numbers.
"""
from __future__ import annotations

import datetime as _dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional, Sequence, Union

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fne_eval.bundle.io import coerce_table
from fne_eval.bundle.spec import (
    AGE_BANDS,
    ROADMAP_START,
    GENDERS,
    PLACE_TYPES,
    SOCIAL_STATUSES,
    TABLES,
    THEMES,
)

DEFAULT_SEED = 20241
DEFAULT_AS_OF = "2026-10-31"
#: First day of the synthetic activity records.
ACTIVITY_START = "2024-01-01"
#: The monitoring tables this module makes, in the order of their random streams.
MONITORING_TABLES = (
    "activities", "budget_transactions", "schedule_status", "trainings",
    "refurbishment", "events", "network_meetings", "meetings", "decisions",
)
_STREAM = {name: i for i, name in enumerate(MONITORING_TABLES)}

# ----------------------------------------------------------------- activity model
#: Expected records per reporting lieu in a month at the start, before growth and season.
BASE_MONTHLY_ACTIVITIES = 6.0
#: Log-growth of the activity per year (0.20: about +22 % a year).
ANNUAL_LOG_GROWTH = 0.20
#: Default extra log-growth per year in exposed communes after action 1.2's start.
DEFAULT_EXPOSED_EFFECT = 0.10
#: Relative activity by calendar month (fewer records in August, July and December).
SEASONALITY = {
    1: 1.00, 2: 1.05, 3: 1.10, 4: 1.00, 5: 0.95, 6: 1.00,
    7: 0.75, 8: 0.45, 9: 1.05, 10: 1.15, 11: 1.10, 12: 0.80,
}
SATURDAY_SHARE = 0.06
COLLECTIVE_BETA = (2.0, 8.0)
REPORTING_BETA = (8.0, 1.5)
SHARE_ONBOARDED_AT_START = 0.60
ONBOARDING_MONTHS = 23
SHARE_STOPPING = 0.04
SHARE_SAME_UNIT = 0.82
SHARE_UNKNOWN_COMMUNE = 0.03
#: Share of records entered twice (a copy of the previous record of the same lieu and day).
DUPLICATE_SHARE = 0.0005

DURATIONS_MIN = np.array([15, 30, 45, 60, 90, 120])
DURATION_WEIGHTS_INDIVIDUAL = np.array([0.10, 0.30, 0.22, 0.25, 0.08, 0.05])
DURATION_WEIGHTS_COLLECTIVE = np.array([0.00, 0.03, 0.05, 0.37, 0.28, 0.27])
PLACE_WEIGHTS_INDIVIDUAL = {"lieu_activite": 0.82, "domicile": 0.05, "a_distance": 0.08, "autre": 0.05}
PLACE_WEIGHTS_COLLECTIVE = {"lieu_activite": 0.92, "domicile": 0.0, "a_distance": 0.02, "autre": 0.06}
THEME_COUNT_WEIGHTS = (0.55, 0.30, 0.15)
#: Relative weight of each theme (unlisted themes weigh 1).
THEME_WEIGHTS = {
    "aide_aux_demarches_administratives": 22, "prendre_en_main_du_materiel": 16,
    "navigation_sur_internet": 8, "email": 8, "diagnostic_numerique": 5,
    "gere_ses_contenus_numeriques": 4, "securite_numerique": 4, "bureautique": 3,
    "reseaux_sociaux": 3, "sante": 3, "banque_et_achats_en_ligne": 3,
    "insertion_professionnelle": 3, "social_sante": 3, "papiers_elections_citoyennete": 3,
    "argent_impots": 3, "travail_formation": 2, "famille_scolarite": 2, "logement": 2,
    "parentalite": 2, "maintenance_de_materiel": 1.5, "transports_mobilite": 1.5,
    "intelligence_artificielle": 1.5, "culture_numerique": 1.5, "scolarite_et_numerique": 1,
    "creer_avec_le_numerique": 1, "entrepreneuriat": 0.5, "justice": 0.5,
    "etrangers_europe": 1, "loisirs_sports_culture": 0.5, "associations": 0.5,
}
#: La Coop added the ``associations`` theme in May 2025.
ASSOCIATIONS_THEME_FROM = "2025-05-01"
#: Age bands (individual records), in the order of AGE_BANDS.
AGE_WEIGHTS = {
    "moins_de_douze": 0.01, "douze_dix_huit": 0.04, "dix_huit_vingt_quatre": 0.07,
    "vingt_cinq_trente_neuf": 0.16, "quarante_cinquante_neuf": 0.25,
    "soixante_soixante_neuf": 0.18, "soixante_dix_plus": 0.17, "non_communique": 0.12,
}
#: Workshops declare "non communiqué" (heterogeneous group) far more often.
COLLECTIVE_NON_COMMUNIQUE = 0.35
GENDER_WEIGHTS_INDIVIDUAL = {"masculin": 0.40, "feminin": 0.55, "non_communique": 0.05}
GENDER_WEIGHTS_COLLECTIVE = {"masculin": 0.30, "feminin": 0.45, "non_communique": 0.25}
#: P(social status | age band): scolarise, sans_emploi, en_emploi, retraite, non_communique.
STATUS_BY_AGE = {
    "moins_de_douze": (0.95, 0.00, 0.00, 0.00, 0.05),
    "douze_dix_huit": (0.92, 0.03, 0.01, 0.00, 0.04),
    "dix_huit_vingt_quatre": (0.35, 0.30, 0.25, 0.00, 0.10),
    "vingt_cinq_trente_neuf": (0.03, 0.42, 0.43, 0.00, 0.12),
    "quarante_cinquante_neuf": (0.01, 0.40, 0.44, 0.03, 0.12),
    "soixante_soixante_neuf": (0.00, 0.10, 0.15, 0.65, 0.10),
    "soixante_dix_plus": (0.00, 0.01, 0.01, 0.88, 0.10),
    "non_communique": (0.05, 0.20, 0.20, 0.15, 0.40),
}

# ----------------------------------------------------------------- other tables
#: Assumed cost of one departure in training paid by the FNE training fund.
TRAINING_COST_PER_DEPARTURE_EUR = Decimal("450.00")
#: Envelope committed for the training fund (60 departures x the unit cost).
TRAINING_FUND_ENVELOPE_EUR = Decimal("27000.00")
#: The roadmap was presented and amended in September 2024 (section 2 of the seed): tasks
#: planned to end before are reported done on time.
ROADMAP_ADOPTED = "2024-09-30"
#: The roadmap's budget was to be allocated by 30 June 2024 (annexe 4).
BUDGET_ALLOCATION_DATE = "2024-06-30"
#: Organisations named in the seed (no people): name, structure type, commune placed in.
TRAINING_STRUCTURES = (
    ("Ville d'Aix-en-Provence", "collectivite", "13001"),
    ("CCAS d'Aix-en-Provence", "collectivite", "13001"),
    ("Ville d'Arles", "collectivite", "13004"),
    ("CCAS d'Arles", "collectivite", "13004"),
    ("Ville de Berre-l'Étang", "collectivite", "13014"),
    ("Ville de Châteaurenard", "collectivite", "13027"),
    ("Ville de Marseille", "collectivite", "13202"),
    ("Ville de Martigues", "collectivite", "13056"),
    ("Ville de Meyreuil", "collectivite", "13060"),
    ("Ville de Miramas", "collectivite", "13063"),
    ("Ville de Port-de-Bouc", "collectivite", "13077"),
    ("Ville de Port-Saint-Louis-du-Rhône", "collectivite", "13078"),
    ("Ville de Tarascon", "collectivite", "13108"),
    ("Ville de Vitrolles", "collectivite", "13117"),
    ("Ville de Saint-Rémy-de-Provence", "collectivite", "13100"),
    ("Ville d'Orgon", "collectivite", "13067"),
    ("Ville de Peynier", "collectivite", "13072"),
    ("Préfecture des Bouches-du-Rhône", "etat", "13206"),
    ("France Travail (agence de Miramas)", "etat", "13063"),
    ("Anonymal", "association", "13001"),
    ("La Verrerie", "association", "13004"),
    ("Help Admin", "association", "13201"),
    ("Femmes Familles Font-Vert", "association", "13214"),
    ("La Ligue de l'enseignement 13", "association", "13203"),
    ("Unis-Cité", "association", "13201"),
    ("Centre social du Grand Canet", "centre_social", "13214"),
    ("Centre social Aquarelle", "centre_social", "13063"),
    ("Centre social Roy d'Espagne", "centre_social", "13209"),
    ("Centre social Christian Chèze", "centre_social", "13004"),
    ("Orange Sud-Est", "entreprise", "13208"),
)
#: Refurbishment operators named in the seed (action 2.1): name, commune, monthly base
#: of devices collected, first month of records.
REFURBISHMENT_OPERATORS = (
    ("La Verrerie", "13004", 25, "2025-03-01"),
    ("Emmaüs Connect", "13201", 60, "2025-03-01"),
    ("Ecodair", "13203", 80, "2025-05-01"),
    ("Eva 3D", "13117", 40, "2025-06-01"),
    ("Anonymal", "13001", 15, "2025-09-01"),
)
EXHIBITIONS = ("Exposition « Insupportable Portable »", "Exposition « Mon enfant, les écrans et moi »")
#: Tour of the exhibitions (action 3.2): it starts at Aix-en-Provence (seed, axis 3).
EXHIBITION_VENUES = (
    ("13001", "Aix-en-Provence"), ("13063", "Miramas"), ("13214", "Marseille 14e"),
    ("13004", "Arles"), ("13209", "Marseille 9e"), ("13077", "Port-de-Bouc"),
    ("13108", "Tarascon"), ("13014", "Berre-l'Étang"), ("13215", "Marseille 15e"),
)
#: Weeks an exhibition stays at a venue.
EXHIBITION_WEEKS = 4

_MONEY_CENT = Decimal("0.01")


# =================================================================== helpers
def _rng(seed, name: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), _STREAM[name]])


def _empty(name: str) -> pd.DataFrame:
    table = TABLES[name]
    return coerce_table(pd.DataFrame(columns=table.column_names), table)


def _typed(name: str, rows: list) -> pd.DataFrame:
    """Return rows (list of dicts) as a typed frame with exactly the spec's columns."""
    table = TABLES[name]
    if not rows:
        return _empty(name)
    df = pd.DataFrame(rows)
    for c in table.column_names:
        if c not in df.columns:
            df[c] = None
    return coerce_table(df[table.column_names], table)


def _money(x) -> Decimal:
    return Decimal(str(x)).quantize(_MONEY_CENT, rounding=ROUND_HALF_UP)


def _ts(x) -> pd.Timestamp:
    return pd.Timestamp(x).normalize()


def _frame(tables: dict, name: str) -> pd.DataFrame:
    df = tables.get(name) if tables else None
    return df if df is not None else _empty(name)


def _string_array(codes: np.ndarray, categories: Sequence, compact: bool = False):
    """Return a string array from integer codes into ``categories`` (-1 = missing).

    With ``compact``, return a :class:`pandas.Categorical` (same values, far less memory).
    """
    codes = np.asarray(codes)
    if compact:
        return pd.Categorical.from_codes(codes.astype(np.int32), categories=[str(c) for c in categories])
    mask = codes < 0
    idx = pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask)
    dictionary = pa.array([str(c) for c in categories] or [""], type=pa.string())
    arr = pa.DictionaryArray.from_arrays(idx, dictionary).cast(pa.string())
    return pd.array(arr, dtype=pd.StringDtype("pyarrow"))


def _sequence_ids(prefix: str, n: int, width: int) -> pd.arrays.ArrowStringArray:
    """Return ``prefix`` + zero-padded 1..n, vectorised."""
    nums = pc.cast(pa.array(np.arange(1, n + 1, dtype=np.int64)), pa.string())
    ids = pc.binary_join_element_wise(prefix, pc.utf8_lpad(nums, width, "0"), "")
    return pd.array(ids, dtype=pd.StringDtype("pyarrow"))


def _draw_categorical(rng: np.random.Generator, weights, size: int) -> np.ndarray:
    """Return ``size`` indices drawn with the (unnormalised) ``weights``."""
    w = np.asarray(weights, dtype=float)
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(size, dtype=np.float32), side="right")


def _easter(year: int) -> _dt.date:
    """Return Easter Sunday of ``year`` (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return _dt.date(year, month, day)


def french_public_holidays(years) -> np.ndarray:
    """Return the French public holidays of ``years`` as ``datetime64[D]`` values."""
    days = []
    for y in years:
        y = int(y)
        for m, d in ((1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)):
            days.append(_dt.date(y, m, d))
        e = _easter(y)
        days += [e + _dt.timedelta(days=1), e + _dt.timedelta(days=39), e + _dt.timedelta(days=50)]
    return np.array(sorted(days), dtype="datetime64[D]")


def _months(start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
    """Return the first days of the months from ``start``'s to ``end``'s (datetime64[M])."""
    return np.arange(np.datetime64(start, "M"), np.datetime64(end, "M") + 1)


# =================================================================== activities
def _unit_tables(territories: pd.DataFrame, populations: pd.DataFrame, ifn: pd.DataFrame):
    """Return the lookups of local units the activity draws need.

    Returns ``(group_of, unit_codes, unit_group, unit_pop, older_65_rate, ifn_total)``:
    the "neighbourhood" group of every local code (the EPCI; for a commune with
    arrondissements and its arrondissements, that commune, e.g. ``C13055``), the local
    units (communes without arrondissements, arrondissements) with their group and
    latest population, and IFN sub-scores by code.
    """
    terr = territories if territories is not None else _empty("territories")
    level = terr["level"].astype("string")
    local = terr[level.isin(["commune", "arrondissement"])].copy()
    codes = local["territory_code"].astype(str).to_numpy()
    is_arr = (local["level"] == "arrondissement").to_numpy(dtype=bool)
    parent = local["commune_code"].astype(object).to_numpy()
    parents = {str(p) for p, a in zip(parent, is_arr) if a and not pd.isna(p)}
    groups = []
    for c, a, p, e in zip(codes, is_arr, parent, local["epci_siren"].astype(object)):
        if a and not pd.isna(p):
            groups.append(f"C{p}")
        elif c in parents:
            groups.append(f"C{c}")
        else:
            groups.append("" if pd.isna(e) else str(e))
    group_of = dict(zip(codes, groups))
    keep = ~np.isin(codes, list(parents))
    unit_codes = codes[keep]
    unit_epci = np.array(groups, dtype=object)[keep]

    pop = {}
    if populations is not None and len(populations):
        p = populations.sort_values(["territory_code", "year"])
        p = p.drop_duplicates("territory_code", keep="last")
        pop = dict(zip(p["territory_code"].astype(str), p["population"].astype(float)))
    unit_pop = np.array([max(pop.get(c, 1.0), 1.0) for c in unit_codes], dtype=float)

    older, total = {}, {}
    if ifn is not None and len(ifn):
        f = ifn
        if "variant" in f.columns and (f["variant"] == "tout_age").any():
            f = f[f["variant"] == "tout_age"]
        f = f.sort_values(["territory_code", "vintage"]).drop_duplicates("territory_code", keep="last")
        codes = f["territory_code"].astype(str)
        older = {c: v for c, v in zip(codes, f["older_65_rate"].astype(float)) if np.isfinite(v)}
        total = {c: v for c, v in zip(codes, f["ifn_total"].astype(float)) if np.isfinite(v)}
    return group_of, unit_codes, unit_epci, unit_pop, older, total


def _open_days(months: np.ndarray, start: pd.Timestamp, end: pd.Timestamp):
    """Return per month the open weekdays and Saturdays inside [start, end] (flat arrays).

    Also returns, under ``"share"``, each month's share of its open days that fall
    inside [start, end] (1 for whole months).
    """
    first = months[0].astype("datetime64[D]")
    last = (months[-1] + 1).astype("datetime64[D]")
    days = np.arange(first, last)
    years = np.unique(days.astype("datetime64[Y]").astype(int) + 1970)
    days = days[~np.isin(days, french_public_holidays(years))]
    dow = (days.astype(np.int64) - 4) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    days, dow = days[dow < 6], dow[dow < 6]
    month_of = np.searchsorted(months.astype("datetime64[D]"), days, side="right") - 1
    whole = np.bincount(month_of, minlength=len(months))
    inside = (days >= np.datetime64(start, "D")) & (days <= np.datetime64(end, "D"))
    days, dow, month_of = days[inside], dow[inside], month_of[inside]
    out = {"share": np.bincount(month_of, minlength=len(months)) / np.maximum(whole, 1)}
    for kind, sel in (("week", dow < 5), ("sat", dow == 5)):
        d, m = days[sel], month_of[sel]
        count = np.bincount(m, minlength=len(months))
        offset = np.concatenate([[0], np.cumsum(count)[:-1]])
        out[kind] = (d, count, offset)
    return out


def generate_activities(
    lieux: pd.DataFrame,
    territories: pd.DataFrame,
    populations: Optional[pd.DataFrame] = None,
    ifn: Optional[pd.DataFrame] = None,
    n: Optional[int] = None,
    start: str = ACTIVITY_START,
    end: str = DEFAULT_AS_OF,
    rng: Union[np.random.Generator, int, None] = None,
    *,
    scale: float = 1.0,
    exposed_codes: Sequence[str] = (),
    exposed_start: Optional[str] = None,
    exposed_effect: float = DEFAULT_EXPOSED_EFFECT,
    compact: bool = False,
) -> pd.DataFrame:
    """Generate synthetic accompaniment records (table ``activities``) for the given lieux.

    Parameters
    ----------
    lieux : pandas.DataFrame
        At least ``id`` and ``territory_code`` (commune or arrondissement of the lieu);
        every row is a lieu that may report.
    territories : pandas.DataFrame
        The ``territories`` table (for EPCI membership of the local units).
    populations, ifn : pandas.DataFrame, optional
        Population weights for beneficiaries' communes; IFN sub-scores (``older_65_rate``,
        ``ifn_total``) shaping age bands and volumes. Missing values use neutral defaults.
    n : int, optional
        Exact number of rows; ``None`` derives it from the lieux count, the months and
        ``scale`` (:data:`BASE_MONTHLY_ACTIVITIES` per reporting lieu and month).
    start, end : str
        First and last possible dates (ISO).
    rng : numpy.random.Generator or int, optional
        Random generator or seed (default: seed :data:`DEFAULT_SEED`, activities stream).
    scale : float, default 1.0
        Multiplier of the derived volume (ignored when ``n`` is given).
    exposed_codes : sequence of str
        Codes of the exposed communes/arrondissements.
    exposed_start : str, optional
        Date from which the exposed-commune effect applies (no effect if ``None``).
    exposed_effect : float, default 0.10
        Extra log-growth per year of lieux in exposed communes after ``exposed_start``.
    compact : bool, default False
        Return the repetitive code columns (all but ``activity_id``) as ``category``
        dtype instead of strings: same values, a fraction of the memory (for national
        runs of millions of rows). The bundle writer and the evaluation accept both.

    Returns
    -------
    pandas.DataFrame
        Exactly the columns of the ``activities`` table, typed as :func:`load_bundle` types
        them (string codes, ``datetime64[ns]`` dates, ``int64`` counts).

    Examples
    --------
    >>> act = generate_activities(lieux, territories, populations, ifn, n=10_000_000,
    ...                           rng=20241, compact=True)  # doctest: +SKIP
    """
    if rng is None or isinstance(rng, (int, np.integer)):
        rng = _rng(DEFAULT_SEED if rng is None else rng, "activities")
    if n is not None and n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if scale < 0:
        raise ValueError(f"scale must be >= 0, got {scale}")
    start, end = _ts(start), _ts(end)
    if lieux is None or len(lieux) == 0 or end < start or n == 0:
        return _empty("activities")

    lieu_ids = lieux["id"].astype(str).to_numpy()
    lieu_code = np.array([("" if pd.isna(c) else str(c)) for c in lieux["territory_code"].astype(object)], dtype=object)
    n_lieux = len(lieu_ids)
    epci_of, unit_codes, unit_epci, unit_pop, older, ifn_total = _unit_tables(territories, populations, ifn)

    # ---- per lieu parameters
    ifn_l = np.array([ifn_total.get(c, np.nan) for c in lieu_code], dtype=float)
    older_l = np.array([older.get(c, np.nan) for c in lieu_code], dtype=float)
    med = np.nanmedian(list(older.values())) if older else 5.0
    older_l = np.where(np.isfinite(older_l), older_l, med)
    ifn_l = np.where(np.isfinite(ifn_l), ifn_l, 5.0)
    volume = rng.lognormal(-0.125, 0.5, n_lieux) * np.clip(1 + 0.08 * (ifn_l - 5), 0.6, 1.5)
    collective_share = rng.beta(*COLLECTIVE_BETA, n_lieux)
    report_p = rng.beta(*REPORTING_BETA, n_lieux)
    months = _months(start, end)
    n_months = len(months)
    onboard = np.where(rng.random(n_lieux) < SHARE_ONBOARDED_AT_START, 0,
                       rng.integers(1, ONBOARDING_MONTHS + 1, n_lieux))
    stop = np.where(rng.random(n_lieux) < SHARE_STOPPING, rng.integers(6, max(n_months, 7), n_lieux), n_months + 1)
    n_mediators = 1 + rng.binomial(2, 0.35, n_lieux)
    exposed = np.isin(lieu_code, np.array([str(c) for c in exposed_codes], dtype=object))

    # ---- per (lieu, month) weights
    days = _open_days(months, start, end)
    day_share = days["share"]
    month_num = months.astype(int) % 12 + 1
    season = np.array([SEASONALITY[m] for m in month_num]) / np.mean(list(SEASONALITY.values()))
    mid = months.astype("datetime64[D]") + 14
    years = (mid - np.datetime64(start, "D")).astype(float) / 365.25
    month_w = np.exp(ANNUAL_LOG_GROWTH * years) * season * day_share
    m_idx = np.arange(n_months)
    reporting = ((m_idx[None, :] >= onboard[:, None]) & (m_idx[None, :] < stop[:, None])
                 & (rng.random((n_lieux, n_months)) < report_p[:, None]))
    weights = volume[:, None] * month_w[None, :] * reporting
    if exposed_start is not None and exposed_effect and exposed.any():
        t_exp = (mid - np.datetime64(_ts(exposed_start), "D")).astype(float) / 365.25
        weights[exposed] *= np.exp(exposed_effect * np.clip(t_exp, 0, None))[None, :]
    flat = weights.ravel()
    total_w = flat.sum()
    if total_w <= 0:
        return _empty("activities")
    if n is None:
        n = int(round(BASE_MONTHLY_ACTIVITIES * scale * total_w))
    counts = rng.multinomial(n, flat / total_w)
    cell = np.repeat(np.arange(flat.size, dtype=np.int64), counts)
    lieu = (cell // n_months).astype(np.int32)
    month = (cell % n_months).astype(np.int32)
    n = len(cell)
    del cell, counts

    # ---- dates: open days, Saturdays rarer
    week_d, week_c, week_o = days["week"]
    sat_d, sat_c, sat_o = days["sat"]
    on_sat = (rng.random(n) < SATURDAY_SHARE) & (sat_c[month] > 0)
    on_sat |= week_c[month] == 0
    u = rng.random(n)
    wi = week_o[month] + np.minimum((u * week_c[month]).astype(np.int64), np.maximum(week_c[month] - 1, 0))
    si = sat_o[month] + np.minimum((u * sat_c[month]).astype(np.int64), np.maximum(sat_c[month] - 1, 0))
    date = np.where(on_sat, sat_d[np.minimum(si, max(len(sat_d) - 1, 0))] if len(sat_d) else week_d[0],
                    week_d[np.minimum(wi, len(week_d) - 1)] if len(week_d) else sat_d[0])
    del on_sat, u, wi, si, month
    order = np.lexsort((lieu, date))
    date, lieu = date[order], lieu[order]
    del order

    # ---- type, size, duration, place
    collective = rng.random(n) < collective_share[lieu]
    participants = np.where(collective, 3 + rng.binomial(12, 0.3, n), 1)
    dur = np.where(collective, _draw_categorical(rng, DURATION_WEIGHTS_COLLECTIVE, n),
                   _draw_categorical(rng, DURATION_WEIGHTS_INDIVIDUAL, n))
    duration = DURATIONS_MIN[dur]
    del dur
    place = np.where(collective,
                     _draw_categorical(rng, [PLACE_WEIGHTS_COLLECTIVE[p] for p in PLACE_TYPES], n),
                     _draw_categorical(rng, [PLACE_WEIGHTS_INDIVIDUAL[p] for p in PLACE_TYPES], n))

    # ---- themes: 1-3 distinct, encoded as one combination code
    tw = [THEME_WEIGHTS.get(t, 1.0) for t in THEMES]
    k = _draw_categorical(rng, THEME_COUNT_WEIGHTS, n) + 1
    none = len(THEMES)
    t = np.stack([_draw_categorical(rng, tw, n).astype(np.int16) for _ in range(3)], axis=1)
    t[:, 1] = np.where(k >= 2, t[:, 1], none)
    t[:, 2] = np.where(k >= 3, t[:, 2], none)
    assoc, admin = THEMES.index("associations"), THEMES.index("aide_aux_demarches_administratives")
    before = date < np.datetime64(ASSOCIATIONS_THEME_FROM, "D")
    t[before[:, None] & (t == assoc)] = admin
    t.sort(axis=1)
    t[:, 1] = np.where(t[:, 1] == t[:, 0], none, t[:, 1])
    t[:, 2] = np.where((t[:, 2] == t[:, 1]) | (t[:, 2] == t[:, 0]), none, t[:, 2])
    t.sort(axis=1)
    base = none + 1
    combo = (t[:, 0].astype(np.int32) * base + t[:, 1]) * base + t[:, 2]
    del t, before
    # np.unique without sorting: combination codes are < base ** 3 (29 791)
    present = np.bincount(combo, minlength=base ** 3) > 0
    uniq = np.flatnonzero(present)
    combo_idx = (np.cumsum(present) - 1).astype(np.int32)[combo]
    del combo, present
    labels = []
    for c in uniq:
        parts = [c // (base * base), (c // base) % base, c % base]
        labels.append("|".join(THEMES[p] for p in parts if p != none))

    # ---- age band by (older_65 class, collective), status by age, gender
    age_w = np.array([AGE_WEIGHTS[a] for a in AGE_BANDS])
    senior = np.array([a in ("soixante_soixante_neuf", "soixante_dix_plus") for a in AGE_BANDS])
    nc = AGE_BANDS.index("non_communique")
    older_class = np.clip(np.rint(older_l), 0, 10).astype(np.int64)
    cls = (older_class[lieu] * 2 + collective).astype(np.int8)
    age = np.empty(n, dtype=np.int8)
    u_age = rng.random(n)
    for c in np.unique(cls):
        w = age_w * np.where(senior, 0.5 + 0.1 * (c // 2), 1.0)
        if c % 2:
            w = w / (w.sum() - w[nc]) * (1 - COLLECTIVE_NON_COMMUNIQUE)
            w[nc] = COLLECTIVE_NON_COMMUNIQUE
        cum = np.cumsum(w / w.sum())
        cum[-1] = 1.0
        sel = cls == c
        age[sel] = np.searchsorted(cum, u_age[sel], side="right")
    del cls, u_age
    status = np.empty(n, dtype=np.int8)
    u_st = rng.random(n)
    for a in np.unique(age):
        cum = np.cumsum(STATUS_BY_AGE[AGE_BANDS[a]])
        cum = cum / cum[-1]
        sel = age == a
        status[sel] = np.searchsorted(cum, u_st[sel], side="right")
    gender = np.where(collective,
                      _draw_categorical(rng, [GENDER_WEIGHTS_COLLECTIVE[g] for g in GENDERS], n),
                      _draw_categorical(rng, [GENDER_WEIGHTS_INDIVIDUAL[g] for g in GENDERS], n))

    # ---- beneficiary commune: same unit, another unit of the same EPCI, or unknown
    unit_index = {c: i for i, c in enumerate(unit_codes)}
    lieu_unit = np.array([unit_index.get(c, -1) for c in lieu_code], dtype=np.int64)
    order_u = (np.lexsort((unit_codes.astype(str), unit_epci.astype(str))) if len(unit_codes)
               else np.array([], dtype=int))
    e_sorted = unit_epci[order_u].astype(str)
    cum_pop = np.cumsum(unit_pop[order_u])
    epci_names, e_first = np.unique(e_sorted, return_index=True)
    e_last = np.append(e_first[1:], len(e_sorted))
    e_lo = np.where(e_first > 0, cum_pop[np.maximum(e_first - 1, 0)], 0.0) * (e_first > 0)
    e_hi = cum_pop[e_last - 1] if len(cum_pop) else np.array([])
    lieu_epci = np.array(["" if pd.isna(e) else str(e) for e in (epci_of.get(c, "") for c in lieu_code)],
                         dtype=object)
    e_pos = np.searchsorted(epci_names, lieu_epci.astype(str)) if len(epci_names) else np.zeros(n_lieux, dtype=int)
    has_epci = np.zeros(n_lieux, dtype=bool)
    if len(epci_names):
        e_pos = np.minimum(e_pos, len(epci_names) - 1)
        has_epci = (epci_names[e_pos] == lieu_epci.astype(str)) & (lieu_epci != "")
    del u_st
    u_b = rng.random(n)
    benef = np.where(lieu_unit[lieu] >= 0, lieu_unit[lieu], -1).astype(np.int32)
    other = (u_b >= SHARE_SAME_UNIT) & (u_b < 1 - SHARE_UNKNOWN_COMMUNE) & has_epci[lieu]
    if other.any():
        ep = e_pos[lieu[other]]
        target = e_lo[ep] + rng.random(int(other.sum())) * (e_hi[ep] - e_lo[ep])
        benef[other] = order_u[np.minimum(np.searchsorted(cum_pop, target, side="right"), len(cum_pop) - 1)]
    benef[u_b >= 1 - SHARE_UNKNOWN_COMMUNE] = -1
    # a lieu whose code is not a local unit (e.g. 13055) keeps its own code
    own = (lieu_unit[lieu] < 0) & (u_b < 1 - SHARE_UNKNOWN_COMMUNE) & ~other
    benef_codes = list(unit_codes)
    extra = sorted({c for c in lieu_code[lieu_unit < 0] if c in epci_of})  # e.g. 13055
    extra_index = {c: len(benef_codes) + i for i, c in enumerate(extra)}
    benef_codes += extra
    if own.any():
        own_codes = np.array([extra_index.get(c, -1) for c in lieu_code], dtype=np.int64)
        benef[own] = own_codes[lieu[own]]

    # ---- mediators: 1-3 per lieu, pseudonymous ids
    med_first = np.concatenate([[0], np.cumsum(n_mediators)[:-1]])
    mediator = med_first[lieu] + np.minimum((rng.random(n) * n_mediators[lieu]).astype(np.int64), n_mediators[lieu] - 1)
    n_med = int(n_mediators.sum())
    med_width = max(4, len(str(n_med)))
    mediator_labels = [f"M{i + 1:0{med_width}d}" for i in range(n_med)]

    # ---- a few records entered twice (same lieu, day and content; new id)
    same = np.flatnonzero((lieu[1:] == lieu[:-1]) & (date[1:] == date[:-1])) + 1
    k = min(int(round(n * DUPLICATE_SHARE)), len(same))
    if k:
        dup = np.sort(rng.choice(same, size=k, replace=False))
        for arr in (mediator, collective, place, participants, duration, combo_idx, benef, age, gender, status):
            arr[dup] = arr[dup - 1]

    del u_b, other, own
    c = compact
    out = pd.DataFrame({
        "activity_id": _sequence_ids("A", n, max(7, len(str(n)))),
        "date": date.astype("datetime64[ns]"),
        "lieu_id": _string_array(lieu, lieu_ids, c),
        "mediator_id": _string_array(mediator, mediator_labels, c),
        "activity_type": _string_array(collective.astype(np.int8), ("individuel", "collectif"), c),
        "place_type": _string_array(place, PLACE_TYPES, c),
        "participants": participants.astype(np.int64),
        "duration_min": duration.astype(np.int64),
        "themes": _string_array(combo_idx, labels, c),
        "beneficiary_commune_code": _string_array(benef, benef_codes, c),
        "age_band": _string_array(age, AGE_BANDS, c),
        "gender": _string_array(gender, GENDERS, c),
        "social_status": _string_array(status, SOCIAL_STATUSES, c),
        # legacy one-value-per-activity layout: the place's commune is left to lieu_id
        "place_commune_code": _string_array(np.full(n, -1, dtype=np.int32), (), c),
    }, copy=False)
    return out[TABLES["activities"].column_names]


# =================================================================== lieux for scale runs
#: Inhabitants per lieu: the Hub du Sud 2023 sample has 226 lieux for 2 087 658
#: inhabitants (Bouches-du-Rhône, millésime 2023), one per 9 238 inhabitants.
INHABITANTS_PER_LIEU = 9_238


def synthetic_lieux(territories: pd.DataFrame, populations: pd.DataFrame,
                    rng: Union[np.random.Generator, int, None] = None,
                    inhabitants_per_lieu: float = INHABITANTS_PER_LIEU) -> pd.DataFrame:
    """Generate placeholder lieux for territories that have no lieux file (national runs).

    Each local unit (commune without arrondissements, or arrondissement) gets a Poisson
    number of lieux with mean ``population / inhabitants_per_lieu``. Only ``id``
    (``L000001``...), ``nom``, ``commune`` and ``territory_code`` are filled: enough for
    :func:`generate_activities`; ``code_postal`` and ``date_maj`` stay empty, so the
    table is not a valid ``lieux`` table for a bundle that must pass validation.

    Parameters
    ----------
    territories, populations : pandas.DataFrame
        The ``territories`` and ``populations`` tables (latest year per unit is used).
    rng : numpy.random.Generator or int, optional
        Random generator or seed (default :data:`DEFAULT_SEED`).
    inhabitants_per_lieu : float
        Mean number of inhabitants per lieu.
    """
    if inhabitants_per_lieu <= 0:
        raise ValueError(f"inhabitants_per_lieu must be > 0, got {inhabitants_per_lieu}")
    if rng is None or isinstance(rng, (int, np.integer)):
        rng = np.random.default_rng([DEFAULT_SEED if rng is None else int(rng), len(_STREAM)])
    _, unit_codes, _, unit_pop, _, _ = _unit_tables(territories, populations, None)
    counts = rng.poisson(unit_pop / inhabitants_per_lieu)
    codes = np.repeat(unit_codes, counts)
    n = len(codes)
    names = dict(zip(territories["territory_code"].astype(str), territories["territory_name"].astype(object)))
    width = max(6, len(str(n)))
    ids = [f"L{i + 1:0{width}d}" for i in range(n)]
    df = pd.DataFrame({
        "id": ids,
        "nom": [f"Lieu de médiation numérique synthétique {i}" for i in ids],
        "commune": [names.get(c) for c in codes],
        "territory_code": codes,
    })
    for c in TABLES["lieux"].column_names:
        if c not in df.columns:
            df[c] = None
    return coerce_table(df[TABLES["lieux"].column_names], TABLES["lieux"])


# =================================================================== trainings
def generate_trainings(territories: pd.DataFrame, rng: np.random.Generator,
                       as_of: pd.Timestamp, start: str = "2024-09-01") -> pd.DataFrame:
    """Generate training departures from ``start`` to ``as_of`` (table ``trainings``).

    Departures funded by the FNE training fund total 42-54 at ``as_of`` (below the
    60-departure minimum of the roadmap); other departures are funded otherwise.
    """
    start = _ts(start)
    if as_of < start:
        return _empty("trainings")
    # draw over a fixed horizon (at least up to the default as_of), then keep <= as_of:
    # an earlier as_of shows fewer departures, a later one more
    horizon = max(as_of, _ts(DEFAULT_AS_OF))
    local = _local_codes(territories)
    structures = [s for s in TRAINING_STRUCTURES if s[2] in local] or [
        (f"Structure {i + 1}", st, code) for i, (st, code) in enumerate(
            zip(("collectivite", "association", "centre_social", "etat"), sorted(local)[:4] or [None] * 4))]
    fund_structs = [s for s in structures if s[1] in ("collectivite", "etat")] or structures
    other_structs = [s for s in structures if s[1] in ("association", "centre_social", "entreprise")] or structures
    months = _months(start, horizon)
    season = np.array([SEASONALITY[int(m) % 12 + 1] for m in months.astype(int)])
    stretch = len(months) / len(_months(start, _ts(DEFAULT_AS_OF)))
    rows = []

    cum_season = np.cumsum(season) / season.sum()
    open_days = _open_days(months, start, horizon)["week"]

    def sessions(total: int, structs, types, type_w, funded: bool):
        sizes = []
        while sum(sizes) < total:
            sizes.append(int(min(total - sum(sizes), rng.integers(1, 5))))
        # stratified over the seasonal profile: sessions spread evenly in time
        k = len(sizes)
        targets = (np.arange(k) + rng.random(k)) / k
        month_idx = np.minimum(np.searchsorted(cum_season, targets, side="right"), len(months) - 1)
        days, count, offset = open_days
        for size, m in zip(sizes, month_idx):
            day = pd.Timestamp(days[offset[m] + int(rng.integers(0, max(count[m], 1)))])
            s = structs[int(rng.integers(0, len(structs)))]
            rows.append({
                "date": day, "training_type": types[_draw_categorical(rng, type_w, 1)[0]],
                "structure_type": s[1], "structure_name": s[0], "commune_code": s[2],
                "departures": size, "funded_by_training_fund": funded,
            })

    sessions(int(round(rng.integers(42, 55) * stretch)), fund_structs,
             ("aidants_connect", "mediation_numerique"), (0.6, 0.4), True)
    sessions(int(round(rng.integers(60, 101) * stretch)), other_structs,
             ("aidants_connect", "mediation_numerique", "accessibilite_handicap", "autre"),
             (0.35, 0.35, 0.2, 0.1), False)
    rows = [r for r in rows if r["date"] <= as_of]
    rows.sort(key=lambda r: (r["date"], r["structure_name"], r["training_type"]))
    for i, r in enumerate(rows):
        r["training_id"] = f"F{i + 1:04d}"
    return _typed("trainings", rows)


def _local_codes(territories: pd.DataFrame) -> set:
    if territories is None or len(territories) == 0:
        return set()
    t = territories[territories["level"].astype("string").isin(["commune", "arrondissement"])]
    return set(t["territory_code"].astype(str))


# =================================================================== budget
def _line_dates(actions: pd.DataFrame) -> dict:
    if actions is None or len(actions) == 0:
        return {}
    return {str(a): (_ts(s) if not pd.isna(s) else None, _ts(e) if not pd.isna(e) else None)
            for a, s, e in zip(actions["action_code"], actions["start_date"], actions["end_date"])}


def generate_budget_transactions(budget_lines: pd.DataFrame, actions: pd.DataFrame,
                                 trainings: pd.DataFrame, rng: np.random.Generator,
                                 as_of: pd.Timestamp) -> pd.DataFrame:
    """Generate dated commitments and payments per budget line (``budget_transactions``).

    Payments never exceed their commitment and follow it; commitments never exceed the
    planned amount. The training fund's payments follow the fund departures in
    ``trainings`` at :data:`TRAINING_COST_PER_DEPARTURE_EUR` each.
    """
    if budget_lines is None or len(budget_lines) == 0:
        return _empty("budget_transactions")
    dates = _line_dates(actions)
    lines = budget_lines.sort_values("budget_line_id").reset_index(drop=True)
    alloc = _ts(BUDGET_ALLOCATION_DATE)
    tx = []  # (date, kind, line_id, action, amount)

    def add(date, kind, line, action, amount):
        if date <= as_of and amount > 0:
            tx.append({"date": date, "kind": kind, "budget_line_id": line, "action_code": action,
                       "amount_eur": amount})

    planned_mask = lines["planned_eur"].map(lambda v: v is not None and not pd.isna(v))
    actions_of = lines["action_code"].astype(object)
    regular = [i for i in range(len(lines)) if planned_mask[i] and str(actions_of[i]) != "1.1"]
    under = regular[int(rng.integers(0, len(regular)))] if regular else None
    candidates = [i for i in regular if i != under]
    unpaid = set(rng.choice(candidates, size=min(2, len(candidates)), replace=False).tolist()) if candidates else set()

    for i, line in lines.iterrows():
        line_id, action = str(line["budget_line_id"]), line["action_code"]
        action = None if pd.isna(action) else str(action)
        planned = line["planned_eur"]
        a_start, a_end = dates.get(action, (None, None))
        if not planned_mask[i]:
            # the training fund: an envelope, paid per quarter for the fund departures
            day = alloc + pd.Timedelta(days=int(rng.integers(60, 100)))
            add(day, "commitment", line_id, action, TRAINING_FUND_ENVELOPE_EUR)
            if trainings is not None and len(trainings):
                fund = trainings[trainings["funded_by_training_fund"].astype(bool)]
                q = fund.groupby(fund["date"].dt.to_period("Q"))["departures"].sum().sort_index()
                paid = Decimal("0.00")
                for period, dep in q.items():
                    amount = _money(TRAINING_COST_PER_DEPARTURE_EUR * int(dep))
                    amount = min(amount, TRAINING_FUND_ENVELOPE_EUR - paid)
                    pay_day = period.end_time.normalize() + pd.Timedelta(days=int(rng.integers(10, 30)))
                    if pay_day > day and pay_day <= as_of and amount > 0:
                        add(pay_day, "payment", line_id, action, amount)
                        paid += amount
            continue
        planned = _money(planned)
        if action == "1.1":
            c_day = _ts("2024-03-15") if a_end is None or a_end >= _ts("2024-03-15") else a_end
            add(c_day, "commitment", line_id, action, planned)
            add(_ts("2024-11-15"), "payment", line_id, action, planned)
            continue
        if i == under:
            share = rng.uniform(0.60, 0.85)
        else:
            share = 1.0 if rng.random() < 0.7 else rng.uniform(0.90, 0.99)
        committed = min(_money(planned * Decimal(str(round(share, 4)))), planned)
        first_day = max(alloc, (a_start - pd.Timedelta(days=30)) if a_start is not None else alloc)
        c1_day = first_day + pd.Timedelta(days=int(rng.integers(5, 90)))
        parts = [committed]
        if rng.random() < 0.4 and committed >= Decimal("100.00"):
            p1 = _money(committed * Decimal(str(round(rng.uniform(0.5, 0.7), 4))))
            parts = [p1, committed - p1]
        days_c = [c1_day] + [c1_day + pd.Timedelta(days=int(rng.integers(90, 270)))] * (len(parts) - 1)
        for amount, c_day in zip(parts, days_c):
            add(c_day, "commitment", line_id, action, amount)
            if i in unpaid:
                continue
            advance = _money(amount / 2)
            add(c_day + pd.Timedelta(days=int(rng.integers(30, 92))), "payment", line_id, action, advance)
            add(c_day + pd.Timedelta(days=int(rng.integers(240, 426))), "payment", line_id, action, amount - advance)
    if not tx:
        return _empty("budget_transactions")
    tx.sort(key=lambda r: (r["date"], r["kind"] != "commitment", r["budget_line_id"]))
    seq_c, seq_p = {}, {}
    for j, r in enumerate(tx):
        r["transaction_id"] = f"T{j + 1:04d}"
        year = r["date"].year
        if r["kind"] == "commitment":
            seq_c[year] = seq_c.get(year, 0) + 1
            r["reference"] = f"CONV-{year}-{seq_c[year]:02d}"
        else:
            seq_p[year] = seq_p.get(year, 0) + 1
            r["reference"] = f"MAND-{year}-{seq_p[year]:03d}"
    return _typed("budget_transactions", tx)


# =================================================================== schedule
def _quarter_ends(first: pd.Timestamp, last: pd.Timestamp) -> list:
    q = pd.period_range(first.to_period("Q"), last.to_period("Q"), freq="Q")
    return [p.end_time.normalize() for p in q if p.end_time.normalize() <= last]


def generate_schedule_status(schedule_tasks: pd.DataFrame, rng: np.random.Generator,
                             as_of: pd.Timestamp) -> pd.DataFrame:
    """Generate quarterly status points per task of the chronogramme (``schedule_status``).

    Scenarios: one task not started although due, one done early, about 40 % late by 1 to
    4 months, the others on time (see the module docstring).
    """
    if schedule_tasks is None or len(schedule_tasks) == 0:
        return _empty("schedule_status")
    tasks = schedule_tasks.sort_values("task_id").reset_index(drop=True)
    ps = [_ts(x) for x in tasks["planned_start"]]
    pe = [_ts(x) for x in tasks["planned_end"]]
    n = len(tasks)
    scenario = ["on_time"] * n
    order = rng.permutation(n).tolist()
    adopted = _ts(ROADMAP_ADOPTED)
    # tasks that ended before the roadmap was adopted are reported done by the roadmap
    fixed = {i for i in range(n) if pe[i] <= adopted}
    free = [i for i in order if i not in fixed]
    due = [i for i in free if ps[i] <= as_of - pd.Timedelta(days=92)]
    recent = [i for i in due if ps[i] >= as_of - pd.Timedelta(days=548)]
    due = [i for i in recent if pe[i] <= as_of] or recent or due
    if due:
        scenario[due[0]] = "not_started"
    early = [i for i in free if scenario[i] == "on_time" and pe[i] <= as_of
             and (pe[i] - ps[i]).days >= 60]
    if early:
        scenario[early[0]] = "early"
    for i in free:
        if scenario[i] == "on_time" and rng.random() < 0.4:
            scenario[i] = "late"
    rows = []
    roadmap_start = _ts(ROADMAP_START)
    for i in range(n):
        task_id, s, e = str(tasks.loc[i, "task_id"]), ps[i], pe[i]
        kind = scenario[i]
        slip = pd.DateOffset(months=int(rng.integers(1, 5)) if kind == "late" else 0)
        if kind == "not_started":
            a_start = a_end = None
        else:
            a_start = s + slip + pd.Timedelta(days=int(rng.integers(0, 10)))
            if kind == "early":
                a_end = e - pd.DateOffset(months=1) - pd.Timedelta(days=int(rng.integers(0, 20)))
                a_end = max(a_end, a_start + pd.Timedelta(days=14))
            elif kind == "late":
                a_end = e + slip
            else:
                a_end = e - pd.Timedelta(days=int(rng.integers(0, 10)))
                a_end = max(a_end, a_start)
        comment_done = False
        first = max(s - pd.Timedelta(days=92), roadmap_start)
        for d in _quarter_ends(first, as_of):
            if d < roadmap_start:
                continue
            started = a_start is not None and a_start <= d
            done = a_end is not None and a_end <= d
            if done:
                status, pct = "done", 100.0
            elif started:
                span = max((a_end - a_start).days, 1)
                pct = float(np.clip(round(100 * (d - a_start).days / span / 5) * 5, 5, 95))
                status = "in_progress"
            else:
                status, pct = "not_started", 0.0
            comment = None
            if not comment_done:
                if kind == "late" and d > s and not started:
                    comment = f"Démarrage décalé (prévu le {s:%d/%m/%Y})"
                    comment_done = True
                elif kind == "not_started" and d > s:
                    comment = "Tâche non démarrée : en attente de moyens"
                    comment_done = True
                elif kind == "early" and done:
                    comment = "Terminée avant l'échéance prévue"
                    comment_done = True
            rows.append({"task_id": task_id, "status_date": d, "status": status,
                         "actual_start": a_start if started else None,
                         "actual_end": a_end if done else None,
                         "progress_pct": pct, "comment": comment})
            if done:
                break
    return _typed("schedule_status", rows)



# =================================================================== refurbishment
def generate_refurbishment(territories: pd.DataFrame, rng: np.random.Generator,
                           as_of: pd.Timestamp) -> pd.DataFrame:
    """Generate monthly collected/refurbished/distributed devices per operator.

    3 to 5 of the operators named in the seed, from 2025-03; in every record
    distributed <= refurbished <= collected.
    """
    local = _local_codes(territories)
    ops = [o for o in REFURBISHMENT_OPERATORS if not local or o[1] in local]
    n_ops = min(len(ops), int(rng.integers(3, 6)))
    rows = []
    for name, code, base, first in ops[:n_ops]:
        first = _ts(first) + pd.DateOffset(months=int(rng.integers(0, 2)))
        months = pd.date_range(first, as_of, freq="MS")
        months = [m for m in months if m + pd.offsets.MonthEnd(0) <= as_of]
        if not months:
            continue
        t = np.arange(len(months)) / 12.0
        season = np.array([SEASONALITY[m.month] for m in months])
        collected = rng.poisson(base * np.exp(0.3 * t) * season)
        refurbished = rng.binomial(collected, rng.uniform(0.55, 0.8))
        distributed = rng.binomial(refurbished, rng.uniform(0.7, 0.95))
        for m, c, r, d in zip(months, collected, refurbished, distributed):
            rows.append({"period_start": m, "operator": name, "commune_code": code,
                         "devices_collected": int(c), "devices_refurbished": int(r),
                         "devices_distributed": int(d)})
    rows.sort(key=lambda r: (r["period_start"], r["operator"]))
    for i, r in enumerate(rows):
        r["record_id"] = f"RC{i + 1:04d}"
    return _typed("refurbishment", rows)


# =================================================================== events
def _weekday(rng: np.random.Generator, year: int, month: int, saturday: bool = False) -> pd.Timestamp:
    first = pd.Timestamp(year=year, month=month, day=1)
    days = pd.date_range(first, first + pd.offsets.MonthEnd(0))
    days = [d for d in days if (d.weekday() == 5) == saturday and d.weekday() < 6]
    return days[int(rng.integers(0, len(days)))]


def generate_events(territories: pd.DataFrame, rng: np.random.Generator,
                    as_of: pd.Timestamp) -> pd.DataFrame:
    """Generate the events of axes 1 and 3 (``events``), up to ``as_of``.

    At least one event has fewer than 5 participants (an accessibility webinar).
    """
    local = _local_codes(territories)

    def ok(code):
        return not local or code in local

    rows = []
    for year, base in ((2024, 350), (2025, 480)):
        rows.append({"date": _weekday(rng, year, 10, saturday=True), "action_code": "3.1",
                     "event_type": "evenement", "title": f"Des Clics et des Livres {year}",
                     "venue_commune_code": "13203", "participants": int(rng.normal(base, 40))})
    tour_start = _ts("2025-04-01")
    venues = [v for v in EXHIBITION_VENUES if ok(v[0])]
    for j, (code, place) in enumerate(venues):
        for k, title in enumerate(EXHIBITIONS):
            # the two exhibitions travel one venue apart, EXHIBITION_WEEKS at each venue
            opening = (tour_start + pd.Timedelta(weeks=EXHIBITION_WEEKS * (j + k))
                       + pd.Timedelta(days=int(rng.integers(0, 5))))
            rows.append({"date": opening, "action_code": "3.2", "event_type": "exposition",
                         "title": f"{title} — {place}", "venue_commune_code": code,
                         "participants": int(rng.integers(25, 180))})
    for j, (y, m) in enumerate(((2025, 3), (2025, 6), (2026, 2))):
        small = j == 1
        rows.append({"date": _weekday(rng, y, m), "action_code": "1.4", "event_type": "webinaire",
                     "title": "Webinaire accessibilité numérique et handicap",
                     "venue_commune_code": "13201",
                     "participants": int(rng.integers(2, 5)) if small else int(rng.integers(9, 31))})
    for y, m, code in ((2025, 11, "13063"), (2026, 6, "13001")):
        rows.append({"date": _weekday(rng, y, m), "action_code": "1.2", "event_type": "journee_echanges",
                     "title": "Journée départementale d'échanges et de pratiques",
                     "venue_commune_code": code, "participants": int(rng.integers(80, 131))})
    rows = [r for r in rows if r["date"] <= as_of and ok(r["venue_commune_code"])]
    rows.sort(key=lambda r: (r["date"], r["title"]))
    for i, r in enumerate(rows):
        r["event_id"] = f"E{i + 1:03d}"
    return _typed("events", rows)


# =================================================================== meetings
#: Participants ranges (low, high inclusive) per structure type, by meeting type.
MEETING_SIZES = {
    "copil": ((2, 5), (1, 3), (2, 4), (0, 2)),
    "cothec": ((3, 8), (3, 8), (1, 3), (0, 3)),
    "groupe_de_travail": ((0, 6), (1, 8), (0, 2), (0, 3)),
    "reunion_semestrielle": ((10, 25), (10, 25), (2, 6), (3, 10)),
    "reseau": ((4, 12), (4, 12), (0, 3), (0, 4)),
    "autre": ((5, 25), (3, 20), (1, 4), (0, 6)),
}


def _meeting_plan() -> list:
    """Return the planned meetings: (date or (year, month), action, type)."""
    plan = [
        ("2023-11-23", "1.1", "copil"), ("2023-12-13", "1.1", "cothec"),
        ("2024-01-09", "1.1", "cothec"), ("2024-01-24", "1.1", "autre"),
        ((2024, 6), "1.1", "autre"), ((2024, 6), "1.1", "groupe_de_travail"),
        ((2024, 6), "1.1", "groupe_de_travail"), ((2024, 7), "1.1", "groupe_de_travail"),
        ((2024, 7), "1.1", "groupe_de_travail"), ((2024, 7), "1.1", "reseau"),
        ((2024, 9), "1.1", "autre"), ((2024, 12), "1.2", "copil"),
    ]
    for y in (2025, 2026, 2027):
        plan += [((y, 2), "1.2", "copil"), ((y, 9), "1.2", "copil"),
                 ((y, 3), "1.2", "reunion_semestrielle"), ((y, 10), "1.2", "reunion_semestrielle")]
        plan += [((y, m), "1.2", "cothec") for m in (1, 4, 6, 11)]
        plan += [((y, m), "1.3", "groupe_de_travail") for m in (2, 5, 10)]
        plan += [((y, m), "1.4", "groupe_de_travail") for m in (2, 6, 11)]
        plan += [((y, m), "1.5", "groupe_de_travail") for m in (3, 9)]
        plan += [((y, m), "4.1", "groupe_de_travail") for m in (1, 4, 10)]
        plan += [((y, m), "4.2", "groupe_de_travail") for m in (1, 6)]
        plan += [((y, m), "2.1", "groupe_de_travail") for m in (5, 11)]
    # the five "bassins de vie" working groups of action 2.1 (annexe 5), spring 2025
    plan += [((2025, m), "2.1", "groupe_de_travail") for m in (4, 4, 5, 5, 6)]
    return plan


def generate_network_meetings(rng: np.random.Generator, as_of: pd.Timestamp) -> pd.DataFrame:
    """Generate governance and network meetings with participants by structure type."""
    rows = []
    for when, action, mtype in _meeting_plan():
        date = _ts(when) if isinstance(when, str) else _weekday(rng, *when)
        sizes = MEETING_SIZES[mtype]
        counts = [int(rng.integers(lo, hi + 1)) for lo, hi in sizes]
        if date > as_of:
            continue
        rows.append({"date": date, "action_code": action, "meeting_type": mtype,
                     "participants_collectivite": counts[0], "participants_association": counts[1],
                     "participants_etat": counts[2], "participants_autre": counts[3]})
    rows.sort(key=lambda r: (r["date"], r["action_code"], r["meeting_type"]))
    for i, r in enumerate(rows):
        r["meeting_id"] = f"R{i + 1:04d}"
    return _typed("network_meetings", rows)


# =================================================================== governance
#: Structures that sit on the COPIL and the COTHEC (functions and organisations, never people).
COPIL_STRUCTURES = ("Préfecture des Bouches-du-Rhône", "Métropole Aix-Marseille-Provence", "Hub du Sud",
                    "Conseil départemental des Bouches-du-Rhône", "CAF des Bouches-du-Rhône", "France Travail",
                    "Banque des Territoires", "CA Terre de Provence", "ACCM Arles Crau Camargue Montagnette",
                    "Agglopole Provence")
COTHEC_STRUCTURES = ("Préfecture des Bouches-du-Rhône", "Métropole Aix-Marseille-Provence", "Hub du Sud",
                     "Emmaüs Connect", "Union des Centres Sociaux", "France Services", "ICOM'Provence",
                     "Conseillers numériques (coordination)")


def generate_meetings(network_meetings: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Generate the governance meetings held: one row per COPIL or COTHEC of ``network_meetings``."""
    rows = []
    nm = network_meetings
    gov = nm[nm["meeting_type"].astype(str).isin(["copil", "cothec"])] if len(nm) else nm
    for r in gov.sort_values("date").to_dict("records"):
        inst = str(r["meeting_type"])
        pool = COPIL_STRUCTURES if inst == "copil" else COTHEC_STRUCTURES
        k = int(rng.integers(max(3, len(pool) - 4), len(pool) + 1))
        chosen = sorted(set(pool[:3]) | set(rng.choice(pool, size=k, replace=False).tolist()))
        n = sum(int(r[c]) for c in ("participants_collectivite", "participants_association", "participants_etat",
                                    "participants_autre"))
        rows.append({"date": r["date"], "instance": inst,
                     "chair": "Préfecture des Bouches-du-Rhône" if inst == "copil" else "Hub du Sud",
                     "participants_n": max(n, len(chosen)), "structures": "|".join(chosen), "note": None})
    for i, r in enumerate(rows):
        r["meeting_id"] = f"G{i + 1:03d}"
    return _typed("meetings", rows)


#: Decisions of past COPIL/COTHEC: (instance, date, action, decision, owner, due, outcome by date).
#: The outcome list holds (date, status, text): the latest dated on or before ``as_of`` applies.
DECISION_PLAN = (
    ("copil", "2024-12", "1.2", "Constituer la gouvernance départementale et le groupe projets FNE au "
     "premier trimestre 2025", "Préfecture et Hub du Sud", "2025-03-31",
     (("2025-03-31", "done", "Gouvernance et groupe projets constitués en mars 2025"),)),
    ("copil", "2024-12", "2.1", "Lancer l'état des lieux des filières de reconditionnement",
     "Hub du Sud", "2025-03-31",
     (("2025-03-31", "done", "État des lieux remis fin mars 2025"),)),
    ("copil", "2025-02", "3.1", "Trouver un porteur et un financement pour l'événement Des Clics et des Livres "
     "d'octobre 2025", "Hub du Sud", "2025-06-30",
     (("2025-06-30", "in_progress", "Porteur pressenti, financement non trouvé"),
      ("2025-10-31", "not_done", "Événement non organisé : en attente de moyens"))),
    ("copil", "2025-02", None, "Ouvrir le fonds de formation et viser 20 premiers départs en 2025",
     "Préfecture", "2025-12-31",
     (("2025-06-30", "in_progress", "Fonds ouvert, premiers départs enregistrés"),
      ("2025-12-31", "done", "Objectif de départs de l'année atteint"))),
    ("cothec", "2025-06", "4.1", "Diffuser les premières ressources de l'axe 4 avant la fin de 2025",
     "Hub du Sud", "2025-12-31",
     (("2025-09-30", "in_progress", "Contenus en cours de production"),)),
    ("copil", "2025-09", "1.2", "Signer la convention de financement de l'animation du réseau",
     "Métropole Aix-Marseille-Provence", "2025-12-31",
     (("2025-12-31", "in_progress", "Convention en relecture, non signée au 31 décembre"),)),
    ("copil", "2025-09", "2.1", "Préparer les expérimentations locales de la filière avec les opérateurs",
     "Hub du Sud", "2026-06-30",
     (("2025-12-31", "in_progress", "Deux opérateurs engagés sur cinq bassins"),)),
)


def generate_decisions(meetings: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Generate the decisions of past COPIL/COTHEC and their follow-up at ``as_of``.

    Each decision is dated on the meeting of its instance in its month (skipped when no such
    meeting is held on or before ``as_of``).
    """
    rows = []
    held = meetings.assign(_m=pd.to_datetime(meetings["date"]).dt.strftime("%Y-%m")) if len(meetings) else meetings
    for inst, month, action, text, owner, due, outcomes in DECISION_PLAN:
        m = held[(held["instance"].astype(str) == inst) & (held["_m"] == month)] if len(held) else held
        if not len(m):
            continue
        date = pd.Timestamp(m["date"].iloc[0])
        if date > as_of:
            continue
        status, follow, fdate = "in_progress", None, None
        for d, st, tx in outcomes:
            if _ts(d) <= as_of:
                status, follow, fdate = st, tx, _ts(d)
        rows.append({"meeting_date": date, "instance": inst, "action_code": action, "decision": text,
                     "owner": owner, "due_date": _ts(due), "follow_up_status": status, "follow_up": follow,
                     "follow_up_date": fdate})
    for i, r in enumerate(rows):
        r["decision_id"] = f"D{i + 1:03d}"
    return _typed("decisions", rows)


# =================================================================== consistency
def reconcile_schedule_and_events(schedule_tasks: Optional[pd.DataFrame], status: pd.DataFrame,
                                  events: pd.DataFrame, as_of: pd.Timestamp) -> tuple:
    """Make the chronogramme and the events tell the same story (issue 11).

    - An event whose title is part of a task that is still not started at ``as_of`` did
      not take place: it is dropped (« Des Clics et des Livres 2025 » while its task waits
      for means).
    - The exhibition tour task of action 3.2 is reported from the exhibitions themselves:
      started at the first opening, done EXHIBITION_WEEKS after the last one.

    Returns ``(status, events)``.
    """
    if schedule_tasks is None or not len(schedule_tasks) or not len(status):
        return status, events
    latest = status.sort_values(["task_id", "status_date"]).drop_duplicates("task_id", keep="last")
    waiting = set(latest.loc[latest["status"].astype(str) == "not_started", "task_id"].astype(str))
    labels = schedule_tasks.set_index(schedule_tasks["task_id"].astype(str))["task_label"].astype(str)
    drop = pd.Series(False, index=events.index)
    for tid in waiting:
        label = labels.get(tid, "")
        drop |= np.array([bool(t) and t in label for t in events["title"].astype(str)], dtype=bool)
    events = events[~drop.to_numpy()].reset_index(drop=True)
    if len(events):
        events = events.assign(event_id=[f"E{i + 1:03d}" for i in range(len(events))])
        events = coerce_table(events[TABLES["events"].column_names].astype(object), TABLES["events"])
    tours = schedule_tasks[(schedule_tasks["action_code"].astype(str) == "3.2")
                           & schedule_tasks["task_label"].astype(str).str.contains("tournée")]
    expo = events[(events["action_code"].astype(str) == "3.2")]
    if len(tours) and len(expo):
        first = _ts(pd.to_datetime(expo["date"]).min())
        end = _ts(pd.to_datetime(expo["date"]).max()) + pd.Timedelta(weeks=EXHIBITION_WEEKS)
        span = max((end - first).days, 1)
        rows = []
        for tid in tours["task_id"].astype(str):
            for d in _quarter_ends(first, as_of) + ([as_of] if end <= as_of else []):
                if d < first:
                    continue
                done = end <= d
                pct = 100.0 if done else float(np.clip(round(100 * (d - first).days / span / 5) * 5, 5, 95))
                rows.append({"task_id": tid, "status_date": d, "status": "done" if done else "in_progress",
                             "actual_start": first, "actual_end": end if done else None, "progress_pct": pct,
                             "comment": None})
                if done:
                    break
        keep = status[~status["task_id"].astype(str).isin(set(tours["task_id"].astype(str)))]
        new = _typed("schedule_status", rows)
        status = pd.concat([keep, new], ignore_index=True)
        status = status.drop_duplicates(["task_id", "status_date"], keep="last")
        status = status.sort_values(["task_id", "status_date"], kind="stable").reset_index(drop=True)
        status = coerce_table(status[TABLES["schedule_status"].column_names], TABLES["schedule_status"])
    return status, events


# =================================================================== entry point
def exposed_territory_codes(exposed_communes: Optional[pd.DataFrame]) -> list:
    """Return the resolved codes of the exposed communes (Annexe 3), total row excluded."""
    if exposed_communes is None or len(exposed_communes) == 0:
        return []
    df = exposed_communes
    if "is_total_row" in df.columns:
        df = df[~df["is_total_row"].fillna(False).astype(bool)]
    return sorted({str(c) for c in df["territory_code"].dropna()})


def generate_monitoring(
    tables: dict,
    seed: int = DEFAULT_SEED,
    as_of: str = DEFAULT_AS_OF,
    scale: float = 1.0,
    exposed_effect: float = DEFAULT_EXPOSED_EFFECT,
) -> dict:
    """Generate every synthetic monitoring table from the reference and roadmap tables.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Typed frames per spec: ``territories``, ``populations``, ``ifn``, ``lieux``,
        ``actions``, ``budget_lines``, ``schedule_tasks``, ``exposed_communes``. A missing
        table gives empty dependent output (e.g. no lieux, no activities).
    seed : int, default 20241
        Seed of every random stream (one stream per table).
    as_of : str, default "2026-10-31"
        Date of the data: nothing is dated after it.
    scale : float, default 1.0
        Multiplier of the activity volume.
    exposed_effect : float, default 0.10
        Extra log-growth per year of the activity of lieux in exposed communes after the
        start of action 1.2 (a synthetic assumption; 0 for none).

    Returns
    -------
    dict of str to pandas.DataFrame
        ``activities``, ``budget_transactions``, ``schedule_status``, ``trainings``,
        ``refurbishment``, ``events``, ``network_meetings``, ``meetings``, ``decisions``, each
        with exactly the spec's
        columns, typed as :func:`fne_eval.bundle.load_bundle` types them.

    Examples
    --------
    >>> out = generate_monitoring(tables, seed=1, as_of="2025-12-31")  # doctest: +SKIP
    >>> sorted(out) == sorted(MONITORING_TABLES)  # doctest: +SKIP
    True
    """
    as_of_ts = _ts(as_of)
    if as_of_ts < _ts(ACTIVITY_START):
        raise ValueError(f"as_of {as_of!r} is before the first activity date {ACTIVITY_START}")
    territories = _frame(tables, "territories")
    actions = _frame(tables, "actions")
    exposed_start = None
    if len(actions):
        a12 = actions.loc[actions["action_code"].astype(str) == "1.2", "start_date"]
        if len(a12) and not pd.isna(a12.iloc[0]):
            exposed_start = str(_ts(a12.iloc[0]).date())
    if exposed_start is None:
        exposed_start = "2025-01-01"
    out = {}
    out["activities"] = generate_activities(
        _frame(tables, "lieux"), territories, tables.get("populations"), tables.get("ifn"),
        n=None, start=ACTIVITY_START, end=as_of, rng=_rng(seed, "activities"), scale=scale,
        exposed_codes=exposed_territory_codes(tables.get("exposed_communes")),
        exposed_start=exposed_start, exposed_effect=exposed_effect,
    )
    out["trainings"] = generate_trainings(territories, _rng(seed, "trainings"), as_of_ts)
    out["budget_transactions"] = generate_budget_transactions(
        tables.get("budget_lines"), actions, out["trainings"], _rng(seed, "budget_transactions"), as_of_ts)
    out["schedule_status"] = generate_schedule_status(
        tables.get("schedule_tasks"), _rng(seed, "schedule_status"), as_of_ts)
    out["refurbishment"] = generate_refurbishment(territories, _rng(seed, "refurbishment"), as_of_ts)
    out["events"] = generate_events(territories, _rng(seed, "events"), as_of_ts)
    out["schedule_status"], out["events"] = reconcile_schedule_and_events(
        tables.get("schedule_tasks"), out["schedule_status"], out["events"], as_of_ts)
    out["network_meetings"] = generate_network_meetings(_rng(seed, "network_meetings"), as_of_ts)
    out["meetings"] = generate_meetings(out["network_meetings"], _rng(seed, "meetings"))
    out["decisions"] = generate_decisions(out["meetings"], as_of_ts)
    return {name: out[name] for name in MONITORING_TABLES}
