"""Tests of the La Coop API v1 importer (fne_eval.ingest.coop_api) against a real HTTP server.

The server runs on 127.0.0.1 in the test process and serves pages shaped as the OpenAPI
document (``data/standards/coop-api-v1/v1.openapi.json``) and the code (§2 of
COOP-MIN-FORMATS) describe: json:api envelopes, cursor pagination with ``links.next``
present on every non-empty page, ``/structures?ids=``, ``/lieux-activite`` as a plain
array with the personal ``aidants`` field. Expected figures are counted by hand from the
items below.
"""
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fne_eval.cli.main import main
from fne_eval.ingest.coop_api import CoopApiError, fetch_coop_activities, fetch_coop_lieux

TOKEN = "client-4f2a:s3cr3t-Zq81-token"
S1, S2 = "5e1a0000-0000-4000-8000-0000000000s1", "5e2a0000-0000-4000-8000-0000000000s2"
NAMES = ["Trouvetou", "trouvetou@example.org", "0491000000", "contact@mediatheque.example.org"]


def _act(i, **attrs):
    base = {"type": "individuel", "mediateur_id": f"00000000-0000-4000-8000-00000000m{i:03d}",
            "accompagnements": 1, "date": "2025-09-03", "duree": 45, "type_lieu": "lieu_activite",
            "structure_id": None, "lieu_code_postal": None, "lieu_commune": None, "lieu_code_insee": None,
            "creation": "2025-09-03T12:00:00.000Z", "modification": "2025-09-04T08:00:00.000Z",
            "suppression": None, "autonomie": None, "oriente_vers_structure": None,
            "structure_de_redirection": None, "materiel": [], "thematiques": ["email"], "tags": [],
            "precisions_demarche": None, "titre_atelier": None, "niveau_atelier": None}
    base.update(attrs)
    return {"type": "activite", "id": f"ac000000-0000-4000-8000-000000000{i:03d}", "attributes": base}


ACTS = [
    # page 1
    [_act(1, structure_id=S1, beneficiaires={"total": 1, "genres": {"feminin": 1},
                                             "tranches_age": {"soixante_soixante_neuf": 1},
                                             "statuts": {"retraite": 1}}),
     _act(2, type="collectif", accompagnements=4, date="2025-09-10", duree=120, type_lieu="autre",
          lieu_code_postal="13100", lieu_commune="Aix-en-Provence", lieu_code_insee="13001",
          thematiques=["securite_numerique", "navigation_sur_internet"],
          beneficiaires={"total": 4, "genres": {"masculin": 1, "feminin": 2, "non_communique": 1},
                         "tranches_age": {"vingt_cinq_trente_neuf": 2, "soixante_dix_plus": 1, "non_communique": 1},
                         "statuts": {"en_emploi": 2, "retraite": 1, "non_communique": 1}})],
    # page 2: a deleted activity, one in Lyon, a former « démarche » without aggregates
    [_act(3, lieu_code_insee="13005", suppression="2025-09-20T10:00:00.000Z"),
     _act(4, lieu_code_insee="69123"),
     _act(5, type="demarche_administrative", date="2025-08-25", duree=30, type_lieu="a_distance",
          lieu_code_insee="13103", thematiques=["logement"])],
    # page 3: before the roadmap period; a structure in Avignon; no commune at all
    [_act(6, type="collectif", accompagnements=2, date="2023-05-01", lieu_code_insee="13201"),
     _act(7, structure_id=S2, date="2025-09-20"),
     _act(8, type_lieu="domicile")],
]
STRUCTURES = {S1: "13201", S2: "84007"}
LIEUX = [
    {"id": S1, "pivot": "21130055300016", "nom": "Médiathèque de la Gare", "commune": "Marseille",
     "code_postal": "13001", "code_insee": "13201", "adresse": "1 rue de la Gare", "latitude": 43.30,
     "longitude": 5.38, "typologie": "BIB", "telephone": "0491000000",
     "courriels": "contact@mediatheque.example.org", "source": "Coop numérique", "date_maj": "2025-06-02",
     "services": "Aide aux démarches administratives|Service inventé", "itinerance": "Fixe",
     "dispositif_programmes_nationaux": "Conseillers numériques",
     "aidants": [{"id": "u1", "nom": "Amélie Trouvetou", "courriel": "trouvetou@example.org"}]},
    {"id": "lyon-1", "pivot": "00000000000000", "nom": "Tiers-lieu", "commune": "Lyon", "code_postal": "69007",
     "code_insee": "69387", "adresse": "2 rue X", "date_maj": "2025-01-01", "services": ""},
]


class _Api:
    """Shared state of the fake API: what to serve, and what was asked."""

    def __init__(self):
        self.fail = []  # per request to /activites: None or ("status", code) / "truncated"
        self.string_links = False
        self.requests = []
        self.auth = set()


def _handler(api: _Api):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _send(self, code, body, headers=None):
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(url.query))
            api.requests.append((url.path, q))
            api.auth.add(self.headers.get("Authorization"))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                return self._send(403, {"error": "Forbidden"})
            path = url.path.removeprefix("/api/v1")
            if path == "/activites":
                fail = api.fail.pop(0) if api.fail else None
                if fail == "expired":
                    return self._send(401, {"error": "Unauthorized"})
                if isinstance(fail, tuple):
                    return self._send(fail[0], {"error": "boom"}, {"Retry-After": "0"} if fail[0] == 429 else None)
                page = int(q.get("page[after]", "0"))
                data = ACTS[page] if page < len(ACTS) else []
                if fail == "malformed":  # valid JSON, but an item without its attributes
                    data = [data[0], {"type": "activite", "id": "ac000000-0000-4000-8000-000000000999"}]
                body = {"data": data, "meta": {"total_count": sum(len(p) for p in ACTS), "items_per_page": 3,
                                               "total_pages": 3, "has_next_page": True, "has_prev_page": page > 0},
                        "links": {"self": {"href": self.path}}}
                if data:  # present on every non-empty page, the last one included (§2.2)
                    nxt = f"/api/v1/activites?page%5Bsize%5D=500&page%5Bafter%5D={page + 1}"
                    body["links"]["next"] = nxt if api.string_links else {"href": nxt}
                raw = json.dumps(body).encode()
                if fail == "truncated":
                    raw = raw[: len(raw) // 2]
                return self._send(200, raw)
            if path == "/structures":
                ids = q.get("ids", "").split(",")
                data = [{"type": "structure", "id": i, "attributes": {"code_insee": STRUCTURES[i], "nom": "S",
                                                                      "suppression": None}}
                        for i in ids if i in STRUCTURES]
                return self._send(200, {"data": data, "links": {"self": {"href": self.path}},
                                        "meta": {"total_count": len(data)}})
            if path == "/lieux-activite":
                return self._send(200, LIEUX)
            return self._send(404, {"error": "not found"})
    return H


@pytest.fixture
def api():
    state = _Api()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _key_file(tmp_path, monkeypatch):
    monkeypatch.setenv("FNE_EVAL_KEY_FILE", str(tmp_path / "secret" / "pseudonym.key"))


KEY = bytes(32)


def _fetch(api, **kw):
    return fetch_coop_activities(api.url, TOKEN, departement="13", key=KEY, **kw)


# --------------------------------------------------------------------------- pagination and mapping
@pytest.mark.parametrize("string_links", [False, True])
def test_pagination_filters_and_mapping(api, string_links):
    api.string_links = string_links
    r = _fetch(api)
    # 3 pages of /activites; total_count (8) reached on page 3: no 4th request
    assert [p for p, _ in api.requests].count("/api/v1/activites") == 3
    assert api.requests[0][1]["page[size]"] == "500"
    assert api.auth == {f"Bearer {TOKEN}"}
    # the structure of act1 (no commune of its own) and of act7 were asked for
    structures = [q for p, q in api.requests if p == "/api/v1/structures"]
    assert len(structures) == 1 and set(structures[0]["ids"].split(",")) == {S1, S2}
    acts = r.activities.set_index("activity_id")
    ids = [a["id"] for a in (ACTS[0][0], ACTS[0][1], ACTS[1][2])]
    # kept: act1 (structure in 13201), act2 (13001), act5 (13103)
    assert sorted(acts.index) == sorted(ids)
    assert int(acts["duration_min"].sum()) == 45 + 120 + 30
    assert len(r.participants) == 1 + 4 + 1
    assert acts["place_commune_code"].to_dict() == dict(zip(ids, ["13201", "13001", "13103"]))
    assert acts.loc[ids[2], "activity_type"] == "individuel"
    assert acts.loc[ids[2], "themes"] == "logement|aide_aux_demarches_administratives"
    assert r.deleted_ids == [ACTS[1][0]["id"]]
    assert r.structure_ids == {ids[0]: S1}
    c = r.report.counts
    assert c["Activités reçues de l'API (toute la France)"] == 8
    assert c["Activités supprimées dans La Coop (ignorées)"] == 1
    assert c["Activités d'autres départements (ignorées)"] == 2  # Lyon and the Avignon structure
    assert c["Activités sans commune de lieu ni de structure (ignorées)"] == 1
    assert c["Activités hors de la période 2023-11-01 – 2027-12-31 (ignorées)"] == 1
    # the workshop's marginals, spread in the vocabulary's order
    w = r.participants[r.participants["activity_id"] == ids[1]]
    assert w["gender"].tolist() == ["masculin", "feminin", "feminin", "non_communique"]
    assert w["age_band"].tolist() == ["vingt_cinq_trente_neuf", "vingt_cinq_trente_neuf", "soixante_dix_plus",
                                      "non_communique"]
    assert w["social_status"].tolist() == ["en_emploi", "en_emploi", "retraite", "non_communique"]
    assert r.participants["demographics_random"].all() and r.participants["commune_code"].isna().all()
    # act5 has no aggregates (API before 2026-04-09)
    assert r.participants[r.participants["activity_id"] == ids[2]]["gender"].tolist() == ["non_communique"]
    assert acts["mediator_id"].str.match(r"^med-[0-9a-f]{16}$").all()


def test_since_filters_on_modification_then_on_date(api):
    r = _fetch(api, since="2025-09-01")
    assert api.requests[0][1]["filter[modification][depuis]"] == "2025-09-01T00:00:00Z"
    # act5 (2025-08-25) and act6 (2023-05-01) are dated before: left out; act1 and act2 stay
    assert len(r.activities) == 2
    assert r.report.counts["Activités datées avant le 2025-09-01 (ignorées)"] == 2


# --------------------------------------------------------------------------- failures
def test_expired_token_is_a_clear_error_without_the_token(api):
    api.fail = ["expired"]
    with pytest.raises(CoopApiError) as exc:
        _fetch(api)
    msg = str(exc.value)
    assert "HTTP 401" in msg and "FNE_COOP_API_TOKEN" in msg and "expiré" in msg
    assert TOKEN not in msg and "s3cr3t" not in msg


def test_429_is_retried_after_retry_after(api):
    api.fail = [(429,)]
    slept = []
    r = _fetch(api, sleep=slept.append)
    assert slept == [0.0]  # Retry-After: 0
    assert len(r.activities) == 3
    assert [p for p, _ in api.requests].count("/api/v1/activites") == 4
    assert any("trop de requêtes" in n for n in r.report.notes)


def test_5xx_is_retried_with_exponential_backoff_and_bounded(api):
    api.fail = [(503,), (502,)]
    slept = []
    r = _fetch(api, sleep=slept.append, backoff=0.5)
    assert slept == [0.5, 1.0] and len(r.activities) == 3
    api.fail = [(500,)] * 10
    slept.clear()
    with pytest.raises(CoopApiError, match=r"erreur du serveur \(HTTP 500\), toujours en échec après 3"):
        _fetch(api, sleep=slept.append, backoff=0.5, max_retries=3)
    assert slept == [0.5, 1.0, 2.0]


def test_truncated_page_is_a_clear_error(api):
    api.fail = [None, "truncated"]
    with pytest.raises(CoopApiError, match=r"/activites, page 2 .* JSON tronqué ou invalide .* rien n'a été écrit"):
        _fetch(api)


def test_malformed_page_is_a_clear_error(api):
    api.fail = [None, "malformed"]
    with pytest.raises(CoopApiError, match=r"^/activites, page 2, élément 2 : objet \{type, id, attributes\} "
                                           r"attendu ; rien n'a été écrit$"):
        _fetch(api)


def test_a_bad_item_is_located_as_served(api, monkeypatch):
    """Page 2, third item (the page's first item is deleted): located by page and rank in it."""
    monkeypatch.setitem(ACTS[1][2]["attributes"], "type", "atelier")
    monkeypatch.setitem(ACTS[1][2]["attributes"], "thematiques", ["logement", "cuisine"])
    r = _fetch(api)
    aid = ACTS[1][2]["id"]
    assert [p.text() for p in r.report.errors] == [
        f"/activites, page 2, élément 3, colonne « thematiques », valeur « cuisine » : thématique inconnue, "
        f"non reprise (activité {aid})",
        f"/activites, page 2, élément 3, colonne « type », valeur « atelier » : individuel ou collectif attendu : "
        f"activité {aid} écartée"]
    assert len(r.activities) == 2


def test_wrong_token_never_echoed(api):
    with pytest.raises(CoopApiError) as exc:
        fetch_coop_activities(api.url, "autre:jeton-faux", key=KEY)
    assert "HTTP 403" in str(exc.value) and "jeton-faux" not in str(exc.value)


# --------------------------------------------------------------------------- lieux
def test_lieux_activite_mapped_without_personal_data(api):
    lieux = fetch_coop_lieux(api.url, TOKEN, departement="13")
    assert lieux["id"].tolist() == [S1]
    row = lieux.iloc[0]
    assert (row["territory_code"], row["code_postal"], row["source"]) == ("13201", "13001", "Coop numérique")
    assert row["services"] == "Aide aux démarches administratives"  # « Service inventé » reported, left out
    assert row["dispositif_programmes_nationaux"] == "Conseillers numériques"
    text = lieux.to_csv()
    for word in NAMES:
        assert word not in text


# --------------------------------------------------------------------------- CLI
def _snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_cli_into_bundle_then_failures_write_nothing(api, tmp_path, monkeypatch, capsys):
    bundle = tmp_path / "b"
    assert main(["bundle", "init", str(bundle)]) == 0
    monkeypatch.setenv("FNE_COOP_API_TOKEN", TOKEN)
    rc = main(["import", "coop-api", "--departement", "13", "--api-url", api.url, "--into", str(bundle)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "activities 3 lignes, lieux 1 ligne, participants 6 lignes" in out.out
    assert main(["validate", str(bundle)]) == 0
    meta = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    assert {t: meta["table_origins"][t]["origin"] for t in ("activities", "participants", "lieux")} == \
        {"activities": "imported", "participants": "imported", "lieux": "imported"}
    acts = (bundle / "activities.csv").read_text(encoding="utf-8")
    assert S1 in acts  # act1's lieu_id: the structure is a lieu of the bundle
    everything = b"".join(_snapshot(bundle).values()) + (out.out + out.err).encode()
    for secret in [TOKEN, "s3cr3t", *NAMES]:
        assert secret.encode() not in everything, secret
    # an expired token, then a truncated page: exit 2 and the bundle is untouched
    before = _snapshot(bundle)
    for fail in (["expired"], [None, "truncated"], [None, "malformed"]):
        api.fail = list(fail)
        assert main(["import", "coop-api", "--api-url", api.url, "--into", str(bundle)]) == 2
        err = capsys.readouterr().err
        assert "rien n'a été écrit" in err or "HTTP 401" in err
        assert TOKEN not in err
        assert _snapshot(bundle) == before
    # without the variable
    monkeypatch.delenv("FNE_COOP_API_TOKEN")
    assert main(["import", "coop-api", "--api-url", api.url, "--into", str(bundle)]) == 2
    assert "FNE_COOP_API_TOKEN absente" in capsys.readouterr().err


def test_cli_since_appends_and_removes_deleted(api, tmp_path, monkeypatch, capsys):
    bundle = tmp_path / "b"
    assert main(["bundle", "init", str(bundle)]) == 0
    monkeypatch.setenv("FNE_COOP_API_TOKEN", TOKEN)
    # first import: act3 (Aubagne, 2025-09-03) is not deleted yet
    monkeypatch.setitem(ACTS[1][0]["attributes"], "suppression", None)
    assert main(["import", "coop-api", "--api-url", api.url, "--into", str(bundle)]) == 0
    assert "activities 4 lignes" in capsys.readouterr().out  # act1, act2, act3, act5
    # then it is deleted in La Coop: a delta import since 2025-09-01 appends and removes it
    monkeypatch.setitem(ACTS[1][0]["attributes"], "suppression", "2025-09-20T10:00:00.000Z")
    assert main(["import", "coop-api", "--since", "2025-09-01", "--api-url", api.url, "--into", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "Bundle mis à jour (append)" in out and "1 ligne(s) de activities supprimée(s) à la source" in out
    # act1, act2 re-imported, act5 kept from the first import, act3 gone
    assert "activities 3 lignes" in out and "participants 6 lignes" in out
    acts = (bundle / "activities.csv").read_text(encoding="utf-8")
    assert ACTS[1][0]["id"] not in acts and ACTS[1][2]["id"] in acts
    meta = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    assert [i["mode"] for i in meta["table_origins"]["activities"]["imports"]] == ["replace", "append"]
