"""Three La Coop activity exports the importer has not seen, with their own ground truth.

Written from the field reference (``COOP-MIN-FORMATS.md`` §1.2–1.7) and nothing else:
this module does not import ``coop_fixtures`` nor anything of ``fne_eval``. Each writer
draws activities with a seeded generator, chooses their *codes* first, writes the
*labels* La Coop would have written on the export day (its own code → label tables
below, dated as the reference dates them), and counts the ground truth from what it
wrote: activities, participants, total duration, activities per type, channel and theme,
participants per gender, age band, status and residence.

- :func:`write_team_export`: the current « team » export (a coordinator's, exported
  2026-03-10), one row per beneficiary × activity, with the workbook table object
  « Activités », the médiateurs' names, the optional « Médiateurs » filter row naming
  people (so the table starts at row 23, not 22) and the « Source de la donnée » column;
- :func:`write_old_self_export`: a médiateur's own export saved on 2025-07-30, before the
  2025-08-20 switch: one row per activity, the per-participant values one line each,
  « Lieu » as ``<nom>, <CP> <commune>``, beneficiaries' names and notes;
- :func:`write_resaved_export`: a current « self » export saved on 2025-11-12 (typographic
  apostrophes, administrative labels without their later dashes) that a user re-saved:
  no table object, no autofilter, a title row added on top, so the header row must be
  found by scanning.

Personal strings (names, notes, e-mails, phone numbers) are returned in
``Truth.personal``: none may reach a bundle.
"""
from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

Q = "\u2019"  # typographic apostrophe of La Coop's headers (§1.3)

# --------------------------------------------------------------------------- vocabularies (§1.4)
TYPE_LABEL = {"individuel": "Accompagnement individuel", "collectif": "Atelier collectif"}
CANAL_LABEL = {"lieu_activite": f"Lieu d{Q}activité", "autre": "Autre lieu", "domicile": "À domicile",
               "a_distance": "À distance"}
#: Theme labels as of 2026-03 (after the 2026-02-27 dashes).
THEME_LABEL_2026 = {
    "diagnostic_numerique": "Diagnostic numérique", "prendre_en_main_du_materiel": "Prendre en main du matériel",
    "maintenance_de_materiel": "Maintenance de matériel",
    "gere_ses_contenus_numeriques": "Gérer ses contenus numériques",
    "navigation_sur_internet": "Navigation sur internet", "email": "E-mail", "bureautique": "Bureautique",
    "reseaux_sociaux": "Réseaux sociaux communication", "sante": "Santé",
    "banque_et_achats_en_ligne": "Banque et achats en ligne", "entrepreneuriat": "Accompagner un professionnel",
    "insertion_professionnelle": "Insertion professionnelle", "securite_numerique": "Prévention en sécurité numérique",
    "parentalite": "Parentalité", "scolarite_et_numerique": "Scolarité et numérique",
    "creer_avec_le_numerique": "Créer avec le numérique", "culture_numerique": "Culture numérique",
    "intelligence_artificielle": "Intelligence artificielle (IA)",
    "aide_aux_demarches_administratives": "Aide aux démarches administratives",
    "papiers_elections_citoyennete": "Papiers - Élections - Citoyenneté", "famille_scolarite": "Famille - Scolarité",
    "social_sante": "Social - Santé", "travail_formation": "Travail - Formation - Entreprise",
    "logement": "Logement", "transports_mobilite": "Transports - Mobilité", "argent_impots": "Argent - Impôts",
    "justice": "Justice", "etrangers_europe": "Étrangers - Europe",
    "loisirs_sports_culture": "Loisirs - Sports - Culture", "associations": "Associations",
}
#: The same between 2025-05-01 and 2026-02-27: two administrative labels without their dash.
THEME_LABEL_2025 = {**THEME_LABEL_2026, "papiers_elections_citoyennete": "Papiers - Élections Citoyenneté",
                    "loisirs_sports_culture": "Loisirs - Sports Culture"}
GENDER_LABEL = {"masculin": "Masculin", "feminin": "Féminin", "non_communique": "Non communiqué"}
AGE_LABEL = {"moins_de_douze": "Moins de 12 ans", "douze_dix_huit": "12 - 17 ans",
             "dix_huit_vingt_quatre": "18 - 24 ans", "vingt_cinq_trente_neuf": "25 - 39 ans",
             "quarante_cinquante_neuf": "40 - 59 ans", "soixante_soixante_neuf": "60 - 69 ans",
             "soixante_dix_plus": "70 ans et plus", "non_communique": "Non communiqué"}
STATUS_LABEL = {"retraite": "Retraité", "sans_emploi": "Sans emploi", "en_emploi": "En emploi",
                "scolarise": "Scolarisé", "non_communique": "Non communiqué ou hétérogène"}
MATERIEL = ["Ordinateur", "Téléphone", "Tablette", "Autre", "Pas de matériel"]
REDIRECTION = ["Administration (mairie, préfecture…)", "Autre structure de médiation numérique",
               f"Structure d{Q}aide sociale (maisons des solidarités, centre social…)", "Autre"]

#: (INSEE code, postcode, commune name as La Coop writes it): the bundle's territories
#: (La Poste and COG: Marseille's postcodes 13001/13003/13013 are arrondissements 13201/13203/13213;
#: Pertuis, in Vaucluse, is a member of the Métropole Aix-Marseille-Provence).
COMMUNES = [("13201", "13001", "Marseille"), ("13203", "13003", "Marseille"), ("13213", "13013", "Marseille"),
            ("13001", "13090", "Aix-en-Provence"), ("13004", "13200", "Arles"),
            ("13103", "13300", "Salon-de-Provence"), ("13056", "13500", "Martigues"), ("13005", "13400", "Aubagne"),
            ("13047", "13800", "Istres"), ("13117", "13127", "Vitrolles"), ("84089", "84120", "Pertuis"),
            ("13097", "13310", "Saint-Martin-de-Crau")]
#: Residences outside the bundle's territories (a participant may come from elsewhere).
RESIDENCES_ELSEWHERE = [("84007", "84000", "Avignon")]
PLACES = ["Médiathèque Alcazar", "Espace public numérique des Floralies", "Centre social La Castellane",
          "France Services du Pays d'Arles", "Maison de quartier Les Canourgues", "Tiers-lieu La Fabulerie"]

# --------------------------------------------------------------------------- personal data
MEDIATORS = [("Gwenaëlle", "Ferrandou-Ribes", "Conseiller Numérique", True),
             ("Anatole", "Quesnoy-Bertaud", "Médiateur", False),
             ("Ysaline", "Montcharmont", "Conseiller Numérique", True),
             ("Séverin", "Labruyère-Kodjo", "Médiateur", False)]
EXPORTER_TEAM = ("Castagnède", "Honorine")  # Nom, Prénom of the header block
EXPORTER_OLD = ("Vidalenc", "Théophraste")
EXPORTER_RESAVED = ("Ferrandou-Ribes", "Gwenaëlle")
BENEFICIARIES = ["Hortense Kerbrat-Oyelaran", "Casimir Dieudonné-Plantevin", "Léocadie Brunschwig",
                 "Aristide Mbappé-Sorel", "Philomène Garrigou-Lagrange", "Evariste Tchakaloff",
                 "Bérangère Oustalet", "Népomucène Aubusson-Diallo", "Clothilde Saint-Ours",
                 "Ambroise Kowalczyk-Roux"]
NOTES = ["Rappeler Mme {name} au 06 71 23 45 98 pour le dossier CAF.",
         "Écrire à {mail} : pièces justificatives manquantes.",
         "{name} revient jeudi avec son fils ; courriel {mail}.",
         "Atelier très participatif, {name} souhaite un suivi individuel."]


def _mail(name: str) -> str:
    first, last = name.split(" ", 1)
    return f"{first.lower()}.{last.lower().replace(' ', '')}@courriel-exemple.fr"


def personal_strings(*extra: str) -> list:
    """Return every personal string the three writers may put in a file."""
    out = set(extra)
    for first, last, _, _ in MEDIATORS:
        out |= {first, last, f"{first} {last}"}
    for last, first in (EXPORTER_TEAM, EXPORTER_OLD, EXPORTER_RESAVED):
        out |= {first, last}
    for name in BENEFICIARIES:
        first, last = name.split(" ", 1)
        out |= {name, first, last, _mail(name)}
    out |= {"06 71 23 45 98", "courriel-exemple.fr", "Rappeler Mme", "pièces justificatives manquantes",
            "revient jeudi avec son fils", "Atelier très participatif", "dossier de Mme"}
    return sorted(out)


# --------------------------------------------------------------------------- ground truth
@dataclass
class Truth:
    """What an export holds, counted by its writer from what it wrote."""

    path: Path
    activities: int = 0
    participants: int = 0
    duration_min: int = 0
    activity_type: Counter = field(default_factory=Counter)
    place_type: Counter = field(default_factory=Counter)
    themes: Counter = field(default_factory=Counter)  # activities per theme code
    gender: Counter = field(default_factory=Counter)  # participants per code, as written
    age_band: Counter = field(default_factory=Counter)
    social_status: Counter = field(default_factory=Counter)
    residence: Counter = field(default_factory=Counter)  # participants per INSEE code ("" unknown)
    collective_participants: int = 0
    anonymous_collective: int = 0  # anonymous participants of workshops: demographics drawn at random
    mediators: int = 0  # distinct médiateurs named in the file (team) or exporters (self)
    rows: int = 0
    header_row: int = 0
    personal: list = field(default_factory=list)
    #: gender per participant as a report may publish it: random draws count « non communiqué »
    gender_published: Counter = field(default_factory=Counter)
    #: gender of the participants whose demographics were drawn at random (per code)
    gender_random: Counter = field(default_factory=Counter)
    #: one record per participant: (activity date, type, drawn at random, gender, age band, status,
    #: residence INSEE code), where « drawn at random » follows the variant (see ``gender_published``)
    people: list = field(default_factory=list)


def _draw_activities(rng: random.Random, n: int, start: dt.date, end: dt.date, themes: dict,
                     named_share: float, mediators: list) -> list:
    """Return ``n`` activities as plain dicts of codes (the ground truth is counted from them)."""
    out = []
    span = (end - start).days
    codes = sorted(themes)
    for k in range(n):
        collective = rng.random() < 0.35
        place_type = "lieu_activite" if collective else rng.choice(
            ["lieu_activite", "lieu_activite", "a_distance", "domicile", "autre"])
        insee, cp, commune = rng.choice(COMMUNES)
        n_part = rng.randint(2, 13) if collective else 1
        people = []
        for _ in range(n_part):
            named = rng.random() < (0.15 if collective else named_share)
            res = rng.choice(COMMUNES + RESIDENCES_ELSEWHERE + [("", "", "")] * 3)
            people.append({
                "name": rng.choice(BENEFICIARIES) if named else "",
                "gender": rng.choice(sorted(GENDER_LABEL)), "age": rng.choice(sorted(AGE_LABEL)),
                "status": rng.choice(sorted(STATUS_LABEL)), "residence": res})
        who = rng.choice(BENEFICIARIES)
        out.append({
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "date": start + dt.timedelta(days=rng.randint(0, span)),
            "type": "collectif" if collective else "individuel", "place_type": place_type,
            "place": (rng.choice(PLACES) if place_type == "lieu_activite" else "", insee, cp, commune),
            "duration": rng.choice([15, 30, 45, 60, 90, 120, 75, 150]),
            "themes": rng.sample(codes, rng.randint(1, 3)),
            "mediator": rng.choice(mediators), "people": people,
            "workshop": rng.choice(["Découverte de la messagerie", "Sécurité en ligne", "Premiers pas sur tablette"])
            if collective else "",
            "note": rng.choice(NOTES) if rng.random() < 0.5 else "",
            "demarche": "CAF – dossier de Mme {0}, {1}".format(
                who.split(" ", 1)[1], _mail(who)) if rng.random() < 0.2 else "",
            "created": dt.datetime(2000, 1, 1, rng.randint(8, 18), rng.choice([0, 5, 20, 45])),
        })
    out.sort(key=lambda a: (a["date"], a["id"]), reverse=True)  # the export's order: date DESC
    return out


def _count(truth: Truth, acts: list, self_export: bool) -> Truth:
    truth.activities = len(acts)
    names = set()
    for a in acts:
        truth.duration_min += a["duration"]
        truth.activity_type[a["type"]] += 1
        truth.place_type[a["place_type"]] += 1
        names.add(a["mediator"][:2])
        for c in a["themes"]:
            truth.themes[c] += 1
        for p in a["people"]:
            truth.participants += 1
            truth.gender[p["gender"]] += 1
            truth.age_band[p["age"]] += 1
            truth.social_status[p["status"]] += 1
            truth.residence[p["residence"][0]] += 1
            drawn = a["type"] == "collectif" and not p["name"]
            if a["type"] == "collectif":
                truth.collective_participants += 1
            if drawn:
                truth.anonymous_collective += 1
                truth.gender_random[p["gender"]] += 1
            # a team export does not say who is anonymous: every workshop participant is a draw there
            hidden = drawn if self_export else a["type"] == "collectif"
            truth.gender_published["non_communique" if hidden else p["gender"]] += 1
            truth.people.append((a["date"], a["type"], hidden, p["gender"], p["age"], p["status"], p["residence"][0]))
    truth.mediators = len(names)
    return truth


# --------------------------------------------------------------------------- workbook
def _workbook(block: list, header: list, rows: list, table: bool, top_rows: int = 0):
    """Write the header block, the header and the rows; return (workbook, header row)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Activités"
    wrap, bold = Alignment(wrap_text=True), Font(bold=True)
    r = top_rows
    if top_rows:
        ws.cell(1, 1, "Export pour le Hub du Sud (copie de travail)").font = bold
    for item in block:
        r += 1
        if item is None:
            continue
        label, value, title = item
        ws.cell(r, 1, label).alignment = wrap
        if title:
            ws.cell(r, 1).font = bold
        if value is not None:
            ws.cell(r, 2, value).alignment = wrap
    head = r + 1
    for j, h in enumerate(header, start=1):
        c = ws.cell(head, j, h)
        c.font, c.alignment = bold, wrap
    for i, values in enumerate(rows, start=head + 1):
        assert len(values) == len(header)
        for j, v in enumerate(values, start=1):
            c = ws.cell(i, j, v)
            c.alignment = wrap
            if isinstance(v, dt.datetime):
                c.number_format = "dd/mm/yyyy"
    if table:
        t = Table(displayName="Activités", ref=f"A{head}:{get_column_letter(len(header))}{head + len(rows)}")
        t.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(t)
    return wb, head


def _block(exporter: tuple, role: str, total: int, day: dt.date, straight: bool, filters: list) -> list:
    apo = "'" if straight else Q
    return ([("Informations export", None, True), ("Nom", exporter[0], False), ("Prénom", exporter[1], False),
             ("Rôle", role, False), ("Total", total, False),
             (f"Date d{apo}export", day.strftime("%d/%m/%Y"), False), (f"Heure d{apo}export", "16:42", False),
             None, ("Filtres", None, True)]
            + [(k, v, False) for k, v in filters] + [None, ("", None, False)])


def _filters(period: tuple, extra: list = ()) -> list:
    return [("Période", f"{period[0]:%d.%m.%Y} - {period[1]:%d.%m.%Y}"), ("Source", "Toutes les sources de données"),
            (f"Lieux d{Q}accompagnement", "-"), ("Communes", "-"), ("Départements", "13 · Bouches-du-Rhône"),
            (f"Type d{Q}accompagnement", "-"), ("Rôle", "-"), ("Thématiques non administratives", "-"),
            ("Thématiques administratives", "-"), ("Tags", "-"), *extra]


CURRENT_HEADER = [
    ("Date", "*"), ("Enregistré le", "*"), ("Dernière modification le", "*"), ("Prénom du médiateur", "team"),
    ("Nom du médiateur", "team"), ("Rôle", "team"), ("ID - Conum", "team"), ("Type", "*"), ("Participants", "*"),
    ("Bénéficiaire", "self"), (f"Canaux d{Q}accompagnement", "*"), ("Nom du lieu", "*"), ("Adresse", "*"),
    ("Commune", "*"), ("Code postal", "*"), ("Code Insee", "*"), ("Durée (min)", "*"),
    (f"Nom de l{Q}atelier", "*"), ("Matériel numérique utilisé", "*"), (f"Thématique(s) d{Q}accompagnement", "*"),
    ("Tags", "*"), ("Nom de la démarche administrative", "*"), (f"Niveau d{Q}autonomie (ou de l{Q}atelier)", "*"),
    ("Bénéficiaire réorienté", "*"), ("Structure de redirection", "*"), ("Commune du bénéficiaire", "*"),
    ("Code postal du bénéficiaire", "*"), ("Code Insee du bénéficiaire", "*"), ("Genre du bénéficiaire", "*"),
    (f"Tranche d{Q}âge du bénéficiaire", "*"), ("Statut du bénéficiaire", "*"), ("Notes supplémentaires", "self"),
    ("Source de la donnée", "source"), ("ID CRA", "*"),
]


def _current_rows(rng: random.Random, acts: list, variant: str, themes: dict, source: bool) -> tuple:
    header = [h for h, k in CURRENT_HEADER if k in ("*", variant) or (k == "source" and source)]
    rows = []
    for a in acts:
        n = len(a["people"])
        name, insee, cp, commune = a["place"]
        first, last, role, conum = a["mediator"]
        materiel = "\n".join(rng.sample(MATERIEL[:3], rng.randint(0, 2)))
        for i, p in enumerate(a["people"], start=1):
            rinsee, rcp, rcommune = p["residence"]
            v = {
                "Date": dt.datetime.combine(a["date"], dt.time()),
                "Enregistré le": f"{a['date']:%d/%m/%Y} à {a['created']:%H:%M}",
                "Dernière modification le": "",
                "Prénom du médiateur": first, "Nom du médiateur": last, "Rôle": role, "ID - Conum": conum,
                "Type": TYPE_LABEL[a["type"]], "Participants": 1 if n == 1 else f"{i}/{n}",
                "Bénéficiaire": p["name"] or "Bénéficiaire anonyme",
                f"Canaux d{Q}accompagnement": CANAL_LABEL[a["place_type"]],
                "Nom du lieu": name, "Adresse": "3 rue de la République" if name else "",
                "Commune": commune, "Code postal": cp, "Code Insee": insee, "Durée (min)": a["duration"],
                f"Nom de l{Q}atelier": a["workshop"], "Matériel numérique utilisé": materiel,
                f"Thématique(s) d{Q}accompagnement": "\n".join(themes[c] for c in a["themes"]),
                "Tags": "", "Nom de la démarche administrative": a["demarche"],
                f"Niveau d{Q}autonomie (ou de l{Q}atelier)": f"{rng.randint(1, 3)}/3",
                "Bénéficiaire réorienté": "" if a["type"] == "collectif" else rng.choice(["Oui", "Non"]),
                "Structure de redirection": "", "Commune du bénéficiaire": rcommune,
                "Code postal du bénéficiaire": rcp, "Code Insee du bénéficiaire": rinsee,
                "Genre du bénéficiaire": GENDER_LABEL[p["gender"]],
                f"Tranche d{Q}âge du bénéficiaire": AGE_LABEL[p["age"]],
                "Statut du bénéficiaire": STATUS_LABEL[p["status"]],
                "Notes supplémentaires": a["note"].format(name=p["name"] or BENEFICIARIES[0],
                                                          mail=_mail(p["name"] or BENEFICIARIES[1]))
                if i == 1 and a["note"] else "",
                "Source de la donnée": "La Coop de la médiation numérique (V2)",
                "ID CRA": a["id"],
            }
            rows.append([v[h] for h in header])
    return header, rows


# --------------------------------------------------------------------------- the three exports
def write_team_export(path, seed: int = 20260310, n: int = 48) -> Truth:
    """The current team export (2026-03-10), with the table object (§1.2, §1.3)."""
    rng = random.Random(seed)
    acts = _draw_activities(rng, n, dt.date(2025, 8, 20), dt.date(2026, 3, 6), THEME_LABEL_2026, 0.0, MEDIATORS)
    header, rows = _current_rows(rng, acts, "team", THEME_LABEL_2026, source=True)
    names = ", ".join(f"{m[0]} {m[1]}" for m in MEDIATORS[:2])
    block = _block(EXPORTER_TEAM, "Coordinateur", len(rows), dt.date(2026, 3, 10), True,
                   _filters((dt.date(2025, 8, 20), dt.date(2026, 3, 9)), [("Médiateurs", names)]))
    wb, head = _workbook(block, header, rows, table=True)
    wb.save(path)
    truth = _count(Truth(path=Path(path), rows=len(rows), header_row=head), acts, self_export=False)
    truth.personal = personal_strings()
    return truth


def write_resaved_export(path, seed: int = 20251112, n: int = 36) -> Truth:
    """A current self export (2025-11-12) re-saved without its table object, a title row on top."""
    rng = random.Random(seed)
    me = MEDIATORS[0]
    acts = _draw_activities(rng, n, dt.date(2025, 8, 20), dt.date(2025, 11, 10), THEME_LABEL_2025, 0.6, [me])
    header, rows = _current_rows(rng, acts, "self", THEME_LABEL_2025, source=False)
    block = _block(EXPORTER_RESAVED, "Conseiller Numérique", len(rows), dt.date(2025, 11, 12), False,
                   _filters((dt.date(2025, 8, 20), dt.date(2025, 11, 12))))
    wb, head = _workbook(block, header, rows, table=False, top_rows=1)
    wb.save(path)
    truth = _count(Truth(path=Path(path), rows=len(rows), header_row=head), acts, self_export=True)
    truth.personal = personal_strings()
    return truth


OLD_HEADER = ["Date", "Type", "Nombre de participants", "Bénéficiaire", f"Canaux d{Q}accompagnement", "Lieu",
              "Durée (min)", f"Nom de l{Q}atelier", "Matériel numérique utilisé",
              f"Thématique(s) d{Q}accompagnement", "Tags", "Nom de la démarche administrative",
              f"Niveau d{Q}autonomie (ou de l{Q}atelier)", "Bénéficiaire réorienté", "Structure de redirection",
              "Commune de résidence du bénéficiaire", "Genre du bénéficiaire", f"Tranche d{Q}âge du bénéficiaire",
              "Statut du bénéficiaire", "Notes supplémentaires"]


def write_old_self_export(path, seed: int = 20250730, n: int = 30) -> Truth:
    """A self export of 2025-07-30 (layout of commit dcbbabd3): one row per activity (§1.6)."""
    rng = random.Random(seed)
    me = MEDIATORS[1]
    acts = _draw_activities(rng, n, dt.date(2025, 1, 6), dt.date(2025, 7, 28), THEME_LABEL_2025, 0.6, [me])
    rows = []
    for a in acts:
        name, insee, cp, commune = a["place"]
        where = f"{cp} {commune}"
        if a["place_type"] == "lieu_activite":
            where = f"{name}, {where}"
        elif a["place_type"] == "a_distance":
            where = f"Structure employeuse : Association Connect13, {where}"
        people = a["people"]
        v = {
            "Date": dt.datetime.combine(a["date"], dt.time()), "Type": TYPE_LABEL[a["type"]],
            "Nombre de participants": len(people),
            "Bénéficiaire": "\n".join(p["name"] or "Bénéficiaire anonyme" for p in people),
            f"Canaux d{Q}accompagnement": CANAL_LABEL[a["place_type"]], "Lieu": where,
            "Durée (min)": a["duration"], f"Nom de l{Q}atelier": a["workshop"],
            "Matériel numérique utilisé": "Ordinateur",
            f"Thématique(s) d{Q}accompagnement": "\n".join(THEME_LABEL_2025[c] for c in a["themes"]),
            "Tags": "", "Nom de la démarche administrative": a["demarche"],
            f"Niveau d{Q}autonomie (ou de l{Q}atelier)": f"{rng.randint(1, 3)}/3",
            "Bénéficiaire réorienté": "" if a["type"] == "collectif" else "Non", "Structure de redirection": "",
            "Commune de résidence du bénéficiaire": "\n".join(f"{p['residence'][1]} {p['residence'][2]}"
                                                             if p["residence"][0] else "-" for p in people),
            "Genre du bénéficiaire": "\n".join(GENDER_LABEL[p["gender"]] for p in people),
            f"Tranche d{Q}âge du bénéficiaire": "\n".join(AGE_LABEL[p["age"]] for p in people),
            "Statut du bénéficiaire": "\n".join(STATUS_LABEL[p["status"]] for p in people),
            "Notes supplémentaires": a["note"].format(name=people[0]["name"] or BENEFICIARIES[2],
                                                      mail=_mail(people[0]["name"] or BENEFICIARIES[3])),
        }
        rows.append([v[h] for h in OLD_HEADER])
    block = ([("Informations export", None, True), ("Nom", EXPORTER_OLD[0], False),
              ("Prénom", EXPORTER_OLD[1], False), ("Rôle", "Médiateur", False), ("Total", len(rows), False),
              (f"Date d{Q}export", "30/07/2025", False), (f"Heure d{Q}export", "09:15", False), None,
              ("Filtres", None, True), ("Période", "01.01.2025 - 30.07.2025"),
              (f"Lieux d{Q}accompagnement", "-"), ("Communes", "-"), ("Départements", "13 · Bouches-du-Rhône"),
              (f"Type d{Q}accompagnement", "-"), ("Thématiques non administratives", "-"),
              ("Thématiques administratives", "-"), ("Tags", "-"), None, ("", None, False)])
    block = [b if b is None or len(b) == 3 else (b[0], b[1], False) for b in block]
    wb, head = _workbook(block, OLD_HEADER, rows, table=True)
    wb.save(path)
    truth = _count(Truth(path=Path(path), rows=len(rows), header_row=head), acts, self_export=True)
    truth.personal = personal_strings()
    return truth
