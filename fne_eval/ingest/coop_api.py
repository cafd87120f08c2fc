"""Fetch activities and lieux from La Coop de la médiation numérique's API v1.

Reference: ``COOP-MIN-FORMATS.md`` §2 and the OpenAPI document
(``data/standards/coop-api-v1/v1.openapi.json``). What the code below relies on:

- authentication ``Authorization: Bearer <client_id>:<client_secret>``; the token is
  passed by the caller (the CLI reads ``$FNE_COOP_API_TOKEN``) and is never printed,
  logged, put in an error message or stored;
- cursor pagination on ``/activites`` and ``/structures``: ``links.next`` (an object
  ``{href}`` in the code, a string in the OpenAPI document: both are read) is present even
  on the last page, so the loop stops when a page is empty or when ``meta.total_count``
  items were read;
- ``/activites`` returns every activity of France, soft-deleted ones included, and cannot
  filter on territory: the département is filtered here, on ``lieu_code_insee``, else on
  the INSEE code of the activity's structure (``/structures?ids=…``);
- ``beneficiaires`` gives per-activity counts by gender, age band and status (since
  2026-04-09), not people: participants are rebuilt from these marginals with an
  arbitrary pairing, hence ``demographics_random`` True; the API gives no residence;
- ``/lieux-activite`` returns places in the national lieux standard (plain array); the
  personal ``aidants`` field and the contact fields are dropped.

Transient failures (HTTP 429, honouring ``Retry-After``; 5xx; network errors) are retried
with exponential back-off, a bounded number of times. Any other failure, or a page that
is not the JSON the API documents, raises :class:`CoopApiError` and nothing is returned,
so nothing is written.
"""
from __future__ import annotations

import datetime as _dt
import email.utils
import http.client
import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Optional

import pandas as pd

from fne_eval.bundle.io import coerce_table
from fne_eval.bundle.spec import (ACTIVITY_TYPES, AGE_BANDS, GENDERS, PLACE_TYPES, ROADMAP_END, ROADMAP_START,
                                  SOCIAL_STATUSES, TABLES, THEMES)
from fne_eval.bundle.spec import DISPOSITIFS, FRAIS, ITINERANCE, MODALITES_ACCOMPAGNEMENT, PUBLICS, SERVICES
from fne_eval.ingest.common import IngestError, IngestReport, departement_of, pseudonym, pseudonym_key, utc_now
from fne_eval.ingest.coop import territory_codes
from fne_eval.ingest.opendata import (ImportReport as LieuxReport, base_lieu_row, finish_lieux, float_or_blank, map_label_list,
                                      parse_export_date, resolve_commune)

DEFAULT_API_URL = "https://coop-numerique.anct.gouv.fr/api/v1"
TOKEN_ENV = "FNE_COOP_API_TOKEN"
PAGE_SIZE = 500
MAX_PAGES = 100_000
#: At most this many ids per ``ids=`` query (OpenAPI: « Maximum 100 ids »).
IDS_PER_QUERY = 100


class CoopApiError(IngestError):
    """The API refused the request, kept failing, or sent something that is not its documented JSON."""


@dataclass
class CoopApiResult:
    """What :func:`fetch_coop_activities` returns."""

    activities: pd.DataFrame
    participants: pd.DataFrame
    report: IngestReport
    deleted_ids: list = field(default_factory=list)
    #: ``structure_id`` of each activity (the ``lieux`` id space), to fill ``lieu_id``.
    structure_ids: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- HTTP
def public_url(url: str) -> str:
    """Return ``url`` without user, password or query: what may be printed or stored."""
    p = urllib.parse.urlsplit(url)
    host = p.hostname or ""
    if p.port:
        host += f":{p.port}"
    return urllib.parse.urlunsplit((p.scheme, host, p.path, "", ""))


class _Client:
    """GET JSON from the API with the token, retrying transient failures."""

    def __init__(self, base_url: str, token: str, timeout: float = 60.0, max_retries: int = 5,
                 backoff: float = 1.0, max_wait: float = 120.0, sleep: Callable = time.sleep):
        if not token:
            raise CoopApiError(f"jeton d'API absent : définir la variable d'environnement {TOKEN_ENV} "
                               "(client_id:client_secret fournis par La Coop)")
        self.base = base_url.rstrip("/")
        self._token = token
        self.timeout, self.max_retries, self.backoff, self.max_wait = timeout, max_retries, backoff, max_wait
        self.sleep = sleep
        self.retries = Counter()

    def url(self, path: str, params: Optional[dict] = None) -> str:
        q = urllib.parse.urlencode(params or {}, safe="[],:")
        return f"{self.base}{path}" + (f"?{q}" if q else "")

    def get(self, url: str, what: str):
        """Return the decoded JSON of ``url``; ``what`` names the page in messages."""
        shown = public_url(url)
        attempt = 0
        while True:
            attempt += 1
            req = urllib.request.Request(url, headers={
                "Authorization": f"Bearer {self._token}", "Accept": "application/json",
                "User-Agent": "fne-eval (import La Coop)"})
            wait = None
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    body = resp.read()
                break
            except urllib.error.HTTPError as exc:
                code = exc.code
                detail = _error_detail(exc)
                exc.close()
                if code in (401, 403):
                    raise CoopApiError(
                        f"{what} ({shown}) : accès refusé par La Coop (HTTP {code}) : jeton absent, invalide ou "
                        f"expiré, ou droit (scope) manquant pour cette route. Vérifier {TOKEN_ENV} "
                        "(client_id:client_secret) auprès de l'équipe de La Coop.") from None
                if code == 429:
                    wait = _retry_after(exc.headers.get("Retry-After"))
                    reason = "trop de requêtes (HTTP 429)"
                elif 500 <= code < 600:
                    reason = f"erreur du serveur (HTTP {code})"
                else:
                    raise CoopApiError(f"{what} ({shown}) : requête refusée (HTTP {code}){detail}") from None
            except (urllib.error.URLError, socket.timeout, ConnectionError, http.client.HTTPException) as exc:
                reason = f"erreur réseau ({getattr(exc, 'reason', exc)})"
            if attempt > self.max_retries:
                raise CoopApiError(f"{what} ({shown}) : {reason}, toujours en échec après {self.max_retries} "
                                   "nouvelles tentatives ; rien n'a été écrit") from None
            delay = self.backoff * 2 ** (attempt - 1) if wait is None else wait
            self.retries[reason.split(" (")[0]] += 1
            self.sleep(min(delay, self.max_wait))
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise CoopApiError(f"{what} ({shown}) : réponse illisible, JSON tronqué ou invalide ({len(body)} octets "
                               f"reçus : {exc}) ; rien n'a été écrit") from None


def _error_detail(exc) -> str:
    try:
        data = json.loads(exc.read().decode("utf-8"))
        msg = data.get("error") if isinstance(data, dict) else None
    except Exception:
        return ""
    if not msg:
        return ""
    return " : " + str(msg)[:200]


def _retry_after(value) -> float:
    """Return the seconds to wait from a ``Retry-After`` header (seconds or HTTP date)."""
    if value is None:
        return 1.0
    v = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", v):
        return float(v)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return 1.0
    now = _dt.datetime.now(when.tzinfo or _dt.timezone.utc)
    return max((when - now).total_seconds(), 0.0)


def _next_href(links) -> Optional[str]:
    if not isinstance(links, dict):
        return None
    nxt = links.get("next")
    if isinstance(nxt, dict):
        nxt = nxt.get("href")
    return nxt if isinstance(nxt, str) and nxt else None


def _paginate(client: _Client, path: str, params: dict, label: str, positions: Optional[list] = None) -> list:
    """Return every item of a cursor-paginated json:api list.

    ``positions``, when given, receives ``(page, rank in the page)`` of each item, both
    from 1, so that a problem can be located as the API served it.
    """
    url = client.url(path, {**params, "page[size]": PAGE_SIZE})
    items, total, seen = [], None, set()
    for page in range(1, MAX_PAGES + 1):
        what = f"{label}, page {page}"
        doc = client.get(url, what)
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            raise CoopApiError(f"{what} ({public_url(url)}) : réponse inattendue, un objet JSON avec une liste "
                               "« data » est attendu ; rien n'a été écrit")
        meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
        if total is None and isinstance(meta.get("total_count"), int):
            total = meta["total_count"]
        data = doc["data"]
        for k, item in enumerate(data, start=1):
            if not isinstance(item, dict) or not isinstance(item.get("attributes"), dict) or not item.get("id"):
                raise CoopApiError(f"{what}, élément {k} : objet {{type, id, attributes}} attendu ; rien n'a été "
                                   "écrit")
        items.extend(data)
        if positions is not None:
            positions.extend((page, k) for k in range(1, len(data) + 1))
        if not data or (total is not None and len(items) >= total):
            break
        nxt = _next_href(doc.get("links"))
        if not nxt:
            break
        nxt = urllib.parse.urljoin(url, nxt)
        if nxt in seen:
            raise CoopApiError(f"{what} : la page suivante annoncée a déjà été lue (curseur qui boucle) ; rien "
                               "n'a été écrit")
        seen.add(nxt)
        url = nxt
    return items


# --------------------------------------------------------------------------- activities
def _marginal_list(counts, allowed: tuple, n: int) -> tuple:
    """Return ``n`` codes spread from a ``{code: count}`` object, and the count left unknown."""
    out = []
    if isinstance(counts, dict):
        for code in allowed:  # the order of the vocabulary, so that the result is stable
            c = counts.get(code)
            if isinstance(c, int) and c > 0:
                out.extend([code] * c)
    unknown = max(n - len(out), 0)
    return (out + ["non_communique"] * unknown)[:n], unknown


def fetch_coop_activities(base_url: str, token: str, departement: str = "13", since: Optional[str] = None, *,
                          territories=None, key: Optional[bytes] = None,
                          period: tuple = (ROADMAP_START, ROADMAP_END), timeout: float = 60.0,
                          max_retries: int = 5, backoff: float = 1.0, sleep: Callable = time.sleep) -> CoopApiResult:
    """Fetch La Coop's activities of a département through its API v1.

    Parameters
    ----------
    base_url : str
        The API root, e.g. ``https://coop-numerique.anct.gouv.fr/api/v1``.
    token : str
        ``client_id:client_secret``; never printed nor stored.
    departement : str, default "13"
        Activities whose place (``lieu_code_insee``, else the structure's INSEE code) is
        in this département are kept; the others are counted.
    since : str, optional
        ISO date: only activities dated on or after it. The API can only filter on the
        modification time, so ``filter[modification][depuis]`` asks for activities
        modified since that date (an activity is recorded after it took place) and the
        activity date is filtered here.
    territories : pandas.DataFrame or iterable of str, optional
        Commune codes of the bundle: activities of the département outside them (none
        for the Bouches-du-Rhône) are counted and left out. Default: the embedded
        bundle's.
    key : bytes, optional
        Pseudonymisation key for ``mediator_id``; default the user's key file.
    period : (str, str)
        Activities dated outside are counted and left out.
    timeout, max_retries, backoff, sleep
        HTTP timeout (s), retries of a transient failure, first back-off (s, doubled at
        each retry), and the sleep function (tests pass a fake).

    Returns
    -------
    CoopApiResult

    Raises
    ------
    CoopApiError
        Refused token (401/403), other client errors, persistent failures, malformed pages.
    """
    client = _Client(base_url, token, timeout=timeout, max_retries=max_retries, backoff=backoff, sleep=sleep)
    since_day = _dt.date.fromisoformat(since) if since else None
    params = {"filter[modification][depuis]": f"{since_day.isoformat()}T00:00:00Z"} if since_day else {}
    report = IngestReport(kind="coop-api")
    positions = []
    items = _paginate(client, "/activites", params, "/activites", positions)
    report.count("Activités reçues de l'API (toute la France)", len(items))
    deleted, live = [], []  # live: (page, rank in the page, item)
    for (page, k), it in zip(positions, items):
        if it["attributes"].get("suppression"):
            deleted.append(it)
        else:
            live.append((page, k, it))
    report.count("Activités supprimées dans La Coop (ignorées)", len(deleted))
    # structures of the activities that have no commune of their own
    need = sorted({it["attributes"].get("structure_id") for _, _, it in live
                   if not it["attributes"].get("lieu_code_insee") and it["attributes"].get("structure_id")})
    struct_insee = {}
    for i in range(0, len(need), IDS_PER_QUERY):
        batch = need[i:i + IDS_PER_QUERY]
        for s in _paginate(client, "/structures", {"ids": ",".join(batch)}, "/structures"):
            struct_insee[s["id"]] = s["attributes"].get("code_insee") or ""
    codes = territory_codes(territories)
    key = pseudonym_key() if key is None else key
    start, end = _dt.date.fromisoformat(period[0]), _dt.date.fromisoformat(period[1])
    acts, parts, structures = [], [], {}
    other_dep, outside, no_code, out_period, before_since = Counter(), 0, 0, 0, 0
    aggregates_missing = 0
    for page, pos, it in live:
        a, aid = it["attributes"], str(it["id"])
        # located as served: the page and the item's rank in it (deleted items included)
        source = f"/activites, page {page}"
        code = a.get("lieu_code_insee") or struct_insee.get(a.get("structure_id") or "", "")
        if not code:
            no_code += 1
            continue
        if departement_of(code) != departement:
            other_dep[departement_of(code)] += 1
            continue
        try:
            day = _dt.date.fromisoformat(str(a.get("date"))[:10])
        except ValueError:
            report.error(source, f"date AAAA-MM-JJ attendue : activité {aid} écartée", row=pos,
                         row_label="élément", column="date", value=a.get("date"))
            continue
        if since_day and day < since_day:
            before_since += 1
            continue
        if not start <= day <= end:
            out_period += 1
            continue
        if code not in codes:
            outside += 1
            continue
        typ = a.get("type")
        themes = [t for t in (a.get("thematiques") or []) if t in THEMES]
        for t in a.get("thematiques") or []:
            if t not in THEMES:
                report.error(source, f"thématique inconnue, non reprise (activité {aid})", row=pos,
                             row_label="élément", column="thematiques", value=t)
        if typ == "demarche_administrative":
            typ = "individuel"
            if "aide_aux_demarches_administratives" not in themes:
                themes.append("aide_aux_demarches_administratives")
        n, duree = a.get("accompagnements"), a.get("duree")
        problems = []
        if typ not in ACTIVITY_TYPES:
            problems.append(("type", typ, "individuel ou collectif attendu"))
        if a.get("type_lieu") not in PLACE_TYPES:
            problems.append(("type_lieu", a.get("type_lieu"), f"une valeur parmi {', '.join(PLACE_TYPES)} attendue"))
        if not isinstance(n, int) or not 1 <= n <= 500:
            problems.append(("accompagnements", n, "nombre entier de 1 à 500 attendu"))
        if not isinstance(duree, (int, float)) or not float(duree).is_integer() or not 1 <= duree <= 1440:
            problems.append(("duree", duree, "durée en minutes attendue (entier de 1 à 1 440)"))
        if not themes:
            problems.append(("thematiques", "", "au moins une thématique connue attendue"))
        if problems:
            for col, v, msg in problems:
                report.error(source, f"{msg} : activité {aid} écartée", row=pos, row_label="élément",
                             column=col, value=v)
            continue
        acts.append({"activity_id": aid, "date": day.isoformat(), "lieu_id": None,
                     "mediator_id": pseudonym(key, "mediateur-coop-id", str(a.get("mediateur_id") or ""), "med-")
                     or None,
                     "activity_type": typ, "place_type": a["type_lieu"], "participants": n,
                     "duration_min": int(duree), "themes": "|".join(themes), "place_commune_code": code})
        if a.get("structure_id"):
            structures[aid] = a["structure_id"]
        b = a.get("beneficiaires") if isinstance(a.get("beneficiaires"), dict) else None
        if b is None:
            aggregates_missing += 1
        genders, _ = _marginal_list((b or {}).get("genres"), GENDERS, n)
        ages, _ = _marginal_list((b or {}).get("tranches_age"), AGE_BANDS, n)
        statuses, _ = _marginal_list((b or {}).get("statuts"), SOCIAL_STATUSES, n)
        for i in range(n):
            parts.append({"activity_id": aid, "participant_index": i + 1, "commune_code": None,
                          "age_band": ages[i], "gender": genders[i], "social_status": statuses[i],
                          "demographics_random": True, "beneficiary_key": None})
    report.count("Activités d'autres départements (ignorées)", sum(other_dep.values()))
    report.count("Activités sans commune de lieu ni de structure (ignorées)", no_code)
    if since_day:
        report.count(f"Activités datées avant le {since_day.isoformat()} (ignorées)", before_since)
    report.count(f"Activités hors de la période {period[0]} – {period[1]} (ignorées)", out_period)
    report.count("Activités du département hors des territoires du bundle (ignorées)", outside)
    activities = coerce_table(pd.DataFrame(acts, columns=TABLES["activities"].column_names), TABLES["activities"])
    participants = coerce_table(pd.DataFrame(parts, columns=TABLES["participants"].column_names),
                                TABLES["participants"])
    report.count("Activités retenues", len(activities))
    report.count("Participants (accompagnements) retenus", len(participants))
    report.count("Durée totale des activités retenues (minutes)", int(activities["duration_min"].sum()))
    report.notes.append("Âge, genre et statut des participants reconstitués à partir des totaux par activité de "
                        "l'API (appariement arbitraire, marqués demographics_random) ; l'API ne donne pas la "
                        "commune de résidence.")
    if aggregates_missing:
        report.notes.append(f"{aggregates_missing} activité(s) sans totaux « beneficiaires » (API antérieure au "
                            "2026-04-09) : participants comptés « non communiqué ».")
    for reason, k in sorted(client.retries.items()):
        report.notes.append(f"{k} nouvelle(s) tentative(s) après : {reason}.")
    report.sources.append({"api": public_url(client.base), "endpoint": "/activites", "departement": departement,
                           "since": since_day.isoformat() if since_day else None,
                           "filter": params or None, "fetched_at": utc_now(), "items": len(items)})
    return CoopApiResult(activities=activities, participants=participants, report=report,
                         deleted_ids=[str(it["id"]) for it in deleted], structure_ids=structures)


# --------------------------------------------------------------------------- lieux
#: Fields of /lieux-activite never kept (personal data or contacts: spec's personal-data rules).
DROPPED_LIEU_FIELDS = ("aidants", "telephone", "courriels", "courriel", "email", "mail")


def fetch_coop_lieux(base_url: str, token: str, departement: str = "13", *, territories=None,
                     report: Optional[IngestReport] = None, timeout: float = 60.0, max_retries: int = 5,
                     backoff: float = 1.0, sleep: Callable = time.sleep) -> pd.DataFrame:
    """Fetch La Coop's ``/lieux-activite`` and return the département's places as a ``lieux`` table.

    The places are in the national lieux standard; the fields of the ``lieux`` table are
    kept (lists checked against the standard's vocabularies, values outside reported),
    the ``aidants`` (names and e-mails of médiateurs) and the contact fields are dropped,
    ``territory_code`` is resolved from the INSEE code, postcode and commune name.
    Places outside the bundle's territories are counted and left out.

    Parameters
    ----------
    report : IngestReport, optional
        Receives the counts; a new one otherwise (in ``df.attrs["import_report"]``).
    """
    client = _Client(base_url, token, timeout=timeout, max_retries=max_retries, backoff=backoff, sleep=sleep)
    report = report if report is not None else IngestReport(kind="coop-api")
    doc = client.get(client.url("/lieux-activite"), "/lieux-activite")
    if not isinstance(doc, list):
        raise CoopApiError("/lieux-activite : réponse inattendue, une liste JSON de lieux est attendue ; rien n'a "
                           "été écrit")
    codes = territory_codes(territories)
    lists = {"services": SERVICES, "publics_specifiquement_adresses": PUBLICS, "frais_a_charge": FRAIS,
             "itinerance": ITINERANCE, "dispositif_programmes_nationaux": DISPOSITIFS,
             "modalites_accompagnement": MODALITES_ACCOMPAGNEMENT}
    sub = LieuxReport(kind="coop-api-lieux")
    rows, other, outside, dropped = [], Counter(), 0, Counter()
    for pos, lieu in enumerate(doc, start=1):
        if not isinstance(lieu, dict):
            raise CoopApiError(f"/lieux-activite, élément {pos} : objet JSON attendu ; rien n'a été écrit")
        for f in DROPPED_LIEU_FIELDS:
            if lieu.get(f):
                dropped[f] += 1

        def g(name, lieu=lieu):
            v = lieu.get(name)
            if isinstance(v, list):
                v = "|".join(str(x) for x in v)
            return "" if v is None else str(v).strip()
        code = g("code_insee") or g("code_postal")
        if departement_of(code) != departement:
            other[departement_of(code)] += 1
            continue
        res = resolve_commune(g("code_postal"), g("commune"), g("code_insee"))
        if res.territory_code not in codes:
            outside += 1
            continue
        row = base_lieu_row()
        row.update(id=g("id"), pivot=g("pivot"), nom=g("nom"), commune=g("commune"),
                   code_postal=g("code_postal") if re.fullmatch(r"\d{5}", g("code_postal")) else "",
                   code_insee=g("code_insee") if re.fullmatch(r"\d{5}|2[AB]\d{3}", g("code_insee")) else "",
                   territory_code=res.territory_code, adresse=g("adresse"),
                   latitude=float_or_blank(g("latitude")), longitude=float_or_blank(g("longitude")),
                   typologie=g("typologie"), source=g("source") or "Coop numérique",
                   date_maj=parse_export_date(g("date_maj")))
        for col, allowed in lists.items():
            row[col] = map_label_list([x.strip() for x in g(col).split("|") if x.strip()], {}, allowed, col, sub)
        if not row["id"] or not row["code_postal"] or not row["date_maj"] or not row["nom"]:
            report.error("/lieux-activite", "id, nom, code_postal (5 chiffres) et date_maj sont attendus : lieu "
                         "écarté", row=pos, row_label="élément", column="id", value=row["id"])
            continue
        rows.append(row)
    lieux = finish_lieux(rows, sub)
    report.count("Lieux reçus de l'API (toute la France)", len(doc))
    report.count("Lieux d'autres départements (ignorés)", sum(other.values()))
    report.count("Lieux du département hors des territoires du bundle (ignorés)", outside)
    report.count("Lieux retenus", len(lieux))
    if dropped:
        report.notes.append("Champs de contact et données personnelles des lieux supprimés : " + ", ".join(
            f"{f} ({n} lieux)" for f, n in sorted(dropped.items())) + ".")
    for (f, v), n in sorted(sub.unmapped.items()):
        report.warn("/lieux-activite", f"valeur hors du vocabulaire du standard, non reprise ({n} lieux)",
                    column=f, value=v)
    report.sources.append({"api": public_url(client.base), "endpoint": "/lieux-activite",
                           "departement": departement, "fetched_at": utc_now(), "items": len(doc)})
    return lieux
