"""The bundle's tables: one declaration per table, the single source of truth.

Everything that reads, validates, writes, templates or generates a bundle works from
:data:`TABLES`. A column declares its kind, whether it is required, and its allowed
values; a table declares its key and its references to other tables.

Column kinds
------------
``code``   a code kept as a string (INSEE, SIREN, action code ``"1.3"``); never a number.
``str``    free text.
``int``    whole number (counts of people, populations).
``float``  real number (IFN scores, rates).
``money``  an amount in euros, exact to the cent (held as :class:`decimal.Decimal`).
``date``   ISO date ``YYYY-MM-DD`` (``DD/MM/YYYY`` accepted on input).
``bool``   ``true/false`` (``oui/non``, ``1/0`` accepted on input).
``list``   several values separated by ``|`` (the national lieux standard's separator).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

KINDS = ("code", "str", "int", "float", "money", "date", "bool", "list")

#: The roadmap runs from the first COPIL (23 November 2023) to the end of 2027.
ROADMAP_START = "2023-11-01"
ROADMAP_END = "2027-12-31"

LEVELS = ("departement", "epci", "commune", "arrondissement")
AXIS_CODES = ("1", "2", "3", "4")
ACTION_CODES = ("1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "3.1", "3.2", "4.1", "4.2")

# Vocabularies of the national standards and of La Coop's activity record (DOMAIN.md b1, b2).
SERVICES = (
    "Aide aux démarches administratives",
    "Maîtrise des outils numériques du quotidien",
    "Insertion professionnelle via le numérique",
    "Utilisation sécurisée du numérique",
    "Parentalité et éducation avec le numérique",
    "Loisirs et créations numériques",
    "Compréhension du monde numérique",
    "Accès internet et matériel informatique",
    "Acquisition de matériel informatique à prix solidaire",
)
DISPOSITIFS = (
    "Aidants Connect",
    "Bibliothèques numérique de référence",
    "Certification PIX",
    "Conseillers numériques",
    "Emmaüs Connect",
    "France Services",
    "Grande école du numérique",
    "La Croix Rouge",
    "Point d'accès numérique CAF",
    "Promeneurs du net",
    "Relais numérique (Emmaüs Connect)",
)
FRAIS = ("Gratuit", "Gratuit sous condition", "Payant")
ITINERANCE = ("Itinérant", "Fixe")
MODALITES_ACCOMPAGNEMENT = (
    "En autonomie",
    "Accompagnement individuel",
    "Dans un atelier collectif",
    "À distance",
)
PUBLICS = ("Jeunes", "Étudiants", "Familles et/ou enfants", "Seniors", "Femmes")
ACTIVITY_TYPES = ("individuel", "collectif")
THEMES = (
    "diagnostic_numerique", "prendre_en_main_du_materiel", "maintenance_de_materiel",
    "gere_ses_contenus_numeriques", "navigation_sur_internet", "email", "bureautique",
    "reseaux_sociaux", "sante", "banque_et_achats_en_ligne", "entrepreneuriat",
    "insertion_professionnelle", "securite_numerique", "parentalite", "scolarite_et_numerique",
    "creer_avec_le_numerique", "culture_numerique", "intelligence_artificielle",
    "aide_aux_demarches_administratives",
    "papiers_elections_citoyennete", "famille_scolarite", "social_sante", "travail_formation",
    "logement", "transports_mobilite", "argent_impots", "justice", "etrangers_europe",
    "loisirs_sports_culture", "associations",
)
AGE_BANDS = (
    "moins_de_douze", "douze_dix_huit", "dix_huit_vingt_quatre", "vingt_cinq_trente_neuf",
    "quarante_cinquante_neuf", "soixante_soixante_neuf", "soixante_dix_plus", "non_communique",
)
GENDERS = ("masculin", "feminin", "non_communique")
SOCIAL_STATUSES = ("scolarise", "sans_emploi", "en_emploi", "retraite", "non_communique")
PLACE_TYPES = ("lieu_activite", "domicile", "a_distance", "autre")
TRANSACTION_KINDS = ("commitment", "payment")
TASK_STATUSES = ("not_started", "in_progress", "done", "cancelled")
INDICATOR_KINDS = ("context", "output", "outcome")
DIRECTIONS = ("higher", "lower")
AGGREGATIONS = ("sum", "weighted_mean", "unweighted_mean", "ratio", "none")
METEO_STATUSES = ("green", "amber", "red", "grey")
TRAINING_TYPES = ("aidants_connect", "mediation_numerique", "accessibilite_handicap", "autre")
STRUCTURE_TYPES = ("collectivite", "association", "etat", "centre_social", "entreprise", "autre")
EVENT_TYPES = ("evenement", "exposition", "journee_echanges", "webinaire")
MEETING_TYPES = ("copil", "cothec", "groupe_de_travail", "reunion_semestrielle", "reseau", "autre")


@dataclass(frozen=True)
class Column:
    """One column of a bundle table."""

    name: str
    kind: str
    required: bool = True
    allowed: Optional[tuple] = None  # closed set (for ``list``: each element)
    pattern: Optional[str] = None  # regular expression a ``code`` must match
    min: Optional[float] = None
    max: Optional[float] = None
    description: str = ""  # in French: shown in the Excel template

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name!r}: unknown kind {self.kind!r}, expected one of {KINDS}")


@dataclass(frozen=True)
class ForeignKey:
    """``column`` of this table must be a value of ``ref_column`` in ``ref_table``."""

    column: str
    ref_table: str
    ref_column: str
    #: restrict the referenced rows, e.g. ``{"level": ("commune", "arrondissement")}``
    ref_filter: Optional[dict] = None


@dataclass(frozen=True)
class Table:
    """One table of the bundle."""

    name: str
    group: str  # 'reference' | 'roadmap' | 'monitoring'
    columns: tuple
    key: tuple
    description: str  # in French
    foreign_keys: tuple = ()
    required: bool = True  # a bundle must hold this table (it may be empty)
    #: columns holding dates that must fall inside the roadmap period
    roadmap_dates: tuple = ()

    @property
    def column_names(self) -> list:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


INSEE = r"^(\d{5}|2[AB]\d{3})$"
SIREN = r"^\d{9}$"
TERRITORY = r"^(\d{2,3}|2[AB]|\d{5}|2[AB]\d{3}|\d{9})$"
POSTCODE = r"^\d{5}$"
ACTION = r"^\d\.\d$"
LOCAL_TERRITORY = {"level": ("commune", "arrondissement")}

C = Column
T = Table

TABLES: dict = {}


def _add(table: Table) -> None:
    TABLES[table.name] = table


# --------------------------------------------------------------------------- reference
_add(T(
    "territories", "reference",
    (
        C("territory_code", "code", pattern=TERRITORY, description="Code INSEE (département, commune, arrondissement) ou SIREN (EPCI)"),
        C("territory_name", "str", description="Nom officiel (COG)"),
        C("level", "code", allowed=LEVELS, description="Niveau : departement, epci, commune, arrondissement"),
        C("departement_code", "code", required=False, description="Département de la commune (vide pour un EPCI)"),
        C("epci_siren", "code", required=False, pattern=SIREN, description="EPCI de la commune ou de l'arrondissement"),
        C("commune_code", "code", required=False, pattern=INSEE, description="Commune parente d'un arrondissement (13055)"),
        C("in_scope", "bool", description="Vrai si le territoire appartient au département de la feuille de route"),
        C("source", "str", description="Source"),
    ),
    key=("territory_code",),
    description="Référentiel territorial : département, EPCI, communes (dont Pertuis et Saint-Zacharie, membres de la Métropole hors département), arrondissements de Marseille.",
    foreign_keys=(ForeignKey("epci_siren", "territories", "territory_code", {"level": ("epci",)}),),
))
_add(T(
    "populations", "reference",
    (
        C("territory_code", "code", pattern=TERRITORY, description="Territoire"),
        C("year", "int", min=1990, max=2100, description="Millésime INSEE (année de référence du recensement)"),
        C("population", "int", min=0, description="Population municipale"),
        C("source", "str", description="Source (fichier et version)"),
    ),
    key=("territory_code", "year"),
    description="Populations municipales INSEE par territoire et millésime. Les lignes EPCI sont les chiffres publiés (DGCL) ; les calculs somment les communes.",
    foreign_keys=(ForeignKey("territory_code", "territories", "territory_code"),),
))
_add(T(
    "ifn", "reference",
    (
        C("territory_code", "code", pattern=TERRITORY, description="Territoire"),
        C("variant", "code", description="Variante de l'indice (tout_age)"),
        C("vintage", "str", description="Millésime de l'indice"),
        C("no_thd_coverage_rate", "float", required=False, min=0, max=10, description="Sous-indice : non-couverture THD"),
        C("no_4g_coverage_rate", "float", required=False, min=0, max=10, description="Sous-indice : non-couverture 4G"),
        C("poverty_rate", "float", required=False, min=0, max=10, description="Sous-indice : taux de pauvreté"),
        C("older_65_rate", "float", required=False, min=0, max=10, description="Sous-indice : part des 65 ans et plus"),
        C("nscol15p_rate", "float", required=False, min=0, max=10, description="Sous-indice : part des peu ou pas diplômés"),
        C("ifn_total", "float", required=False, min=0, max=10, description="Indice total (moyenne non pondérée des 5 sous-indices, 0-10)"),
        C("source", "str", description="Source"),
    ),
    key=("territory_code", "variant", "vintage"),
    description="Indice de fragilité numérique (La MedNum, via ANCT) par territoire.",
    foreign_keys=(ForeignKey("territory_code", "territories", "territory_code"),),
))
_add(T(
    "context_figures", "reference",
    (
        C("figure_id", "code", description="Identifiant du chiffre"),
        C("territory_code", "code", pattern=TERRITORY, description="Territoire concerné"),
        C("indicator", "code", description="Ce qui est mesuré (ex. illectronisme_rate)"),
        C("label", "str", description="Libellé en français"),
        C("value", "float", description="Valeur"),
        C("unit", "code", description="Unité (persons, pct, places, ...)"),
        C("reference_date", "str", description="Date ou année de référence du chiffre"),
        C("source", "str", description="Source citée"),
        C("seed_location", "str", description="Où le chiffre figure dans la feuille de route"),
        C("note", "str", required=False, description="Remarque"),
    ),
    key=("figure_id",),
    description="Chiffres de l'état des lieux de la feuille de route, chacun avec sa source et sa date.",
    foreign_keys=(ForeignKey("territory_code", "territories", "territory_code"),),
))
_add(T(
    "exposed_communes", "reference",
    (
        C("row_number", "int", min=1, description="Rang dans l'annexe 3"),
        C("printed_postal_code", "code", required=False, description="« Code postal » tel qu'imprimé"),
        C("printed_name", "str", description="« Ville » telle qu'imprimée"),
        C("printed_population", "int", min=0, description="« Population » telle qu'imprimée"),
        C("printed_ifn", "float", min=0, max=10, description="« IFN » tel qu'imprimé"),
        C("printed_fragile_population", "int", min=0, description="« Fragilité socio numérique » (personnes) telle qu'imprimée"),
        C("printed_share_pct", "float", min=0, description="« % de la population » tel qu'imprimé"),
        C("is_total_row", "bool", description="Ligne « Moyenne département »"),
        C("territory_code", "code", required=False, pattern=INSEE, description="Code INSEE résolu (commune ou arrondissement)"),
        C("resolution_note", "str", required=False, description="Comment le code a été résolu"),
    ),
    key=("row_number",),
    description="Annexe 3 de la feuille de route : communes les plus exposées, transcrites telles qu'imprimées.",
    foreign_keys=(ForeignKey("territory_code", "territories", "territory_code", LOCAL_TERRITORY),),
))

# --------------------------------------------------------------------------- roadmap
_add(T(
    "axes", "roadmap",
    (
        C("axis_code", "code", pattern=r"^\d$", description="Numéro de l'axe"),
        C("axis_title", "str", description="Intitulé"),
        C("source", "str", description="Source"),
    ),
    key=("axis_code",),
    description="Les axes de la feuille de route.",
))
_add(T(
    "actions", "roadmap",
    (
        C("action_code", "code", pattern=ACTION, description="Code de l'action (ex. 1.3)"),
        C("axis_code", "code", description="Axe"),
        C("action_title", "str", description="Intitulé"),
        C("referents", "list", description="Référents, séparés par |"),
        C("partners", "list", required=False, description="Partenaires, séparés par |"),
        C("start_date", "date", description="Début prévu"),
        C("end_date", "date", description="Fin prévue"),
        C("source", "str", description="Source"),
    ),
    key=("action_code",),
    description="Les actions de la feuille de route.",
    foreign_keys=(ForeignKey("axis_code", "axes", "axis_code"),),
))
_add(T(
    "budget_lines", "roadmap",
    (
        C("budget_line_id", "code", description="Identifiant de la ligne"),
        C("action_code", "code", required=False, description="Action (vide pour le fonds de formation)"),
        C("line_label", "str", description="Libellé"),
        C("funder", "str", description="Financeur (ex. État - FNE)"),
        C("recipient", "str", description="Récipiendaire"),
        C("referents", "list", required=False, description="Référent(s) tels qu'imprimés, séparés par |"),
        C("planned_eur", "money", required=False, min=0, description="Montant prévu en euros (vide si non chiffré)"),
        C("objective", "str", required=False, description="Objectif associé"),
        C("target_departures", "int", required=False, min=0, description="Départs en formation visés (fonds de formation)"),
        C("source", "str", description="Source"),
    ),
    key=("budget_line_id",),
    description="Budget prévu par action et le fonds de formation (annexe 6).",
    foreign_keys=(ForeignKey("action_code", "actions", "action_code"),),
))
_add(T(
    "schedule_tasks", "roadmap",
    (
        C("task_id", "code", description="Identifiant de la tâche"),
        C("action_code", "code", description="Action"),
        C("task_label", "str", description="Tâche"),
        C("planned_start", "date", description="Début prévu"),
        C("planned_end", "date", description="Fin prévue"),
        C("source", "str", description="Source et mode de lecture"),
    ),
    key=("task_id",),
    description="Chronogramme : tâches et fenêtres prévues (annexe 5 et calendriers des axes).",
    foreign_keys=(ForeignKey("action_code", "actions", "action_code"),),
    roadmap_dates=("planned_start", "planned_end"),
))
_add(T(
    "indicators", "roadmap",
    (
        C("indicator_code", "code", description="Code de l'indicateur"),
        C("label", "str", description="Libellé en français"),
        C("axis_code", "code", required=False, description="Axe"),
        C("action_code", "code", required=False, description="Action"),
        C("kind", "code", allowed=INDICATOR_KINDS, description="context, output ou outcome"),
        C("unit", "code", description="Unité"),
        C("numerator", "str", description="Définition du numérateur"),
        C("denominator", "str", required=False, description="Définition du dénominateur"),
        C("direction", "code", allowed=DIRECTIONS, description="higher ou lower (sens de l'amélioration)"),
        C("aggregation", "code", allowed=AGGREGATIONS, description="Agrégation entre niveaux territoriaux"),
        C("baseline_value", "float", required=False, description="Valeur de référence"),
        C("baseline_date", "date", required=False, description="Date de la valeur de référence"),
        C("baseline_source", "str", required=False, description="Source de la valeur de référence"),
        C("target_2025", "float", required=False, description="Cible 2025"),
        C("target_2026", "float", required=False, description="Cible 2026"),
        C("target_2027", "float", required=False, description="Cible 2027"),
        C("target_source", "str", required=False, description="Origine des cibles"),
    ),
    key=("indicator_code",),
    description="Cadre de résultats : indicateurs, définitions, valeurs de référence et cibles.",
    foreign_keys=(
        ForeignKey("axis_code", "axes", "axis_code"),
        ForeignKey("action_code", "actions", "action_code"),
    ),
))
_add(T(
    "meteo_overrides", "roadmap",
    (
        C("action_code", "code", description="Action"),
        C("decision_date", "date", description="Date de la décision du COPIL"),
        C("status", "code", allowed=METEO_STATUSES, description="Météo retenue"),
        C("justification", "str", description="Justification"),
        C("decided_by", "str", description="Instance ou personne (fonction) qui décide"),
    ),
    key=("action_code", "decision_date"),
    description="Météos décidées par le COPIL en remplacement de la météo calculée, avec justification.",
    foreign_keys=(ForeignKey("action_code", "actions", "action_code"),),
    required=False,
    roadmap_dates=("decision_date",),
))

# --------------------------------------------------------------------------- monitoring
_add(T(
    "lieux", "monitoring",
    (
        C("id", "code", description="Identifiant local du lieu"),
        C("pivot", "code", required=False, description="SIRET, RNA ou RIDET"),
        C("nom", "str", description="Nom du lieu"),
        C("commune", "str", description="Commune (libellé)"),
        C("code_postal", "code", pattern=POSTCODE, description="Code postal"),
        C("code_insee", "code", required=False, pattern=INSEE, description="Code INSEE de la commune (ou de l'arrondissement)"),
        C("territory_code", "code", pattern=INSEE, description="Commune ou arrondissement de rattachement (résolu)"),
        C("adresse", "str", required=False, description="Adresse"),
        C("latitude", "float", required=False, min=-90, max=90, description="Latitude WGS84"),
        C("longitude", "float", required=False, min=-180, max=180, description="Longitude WGS84"),
        C("typologie", "list", required=False, description="Typologies (|)"),
        C("services", "list", required=False, allowed=SERVICES, description="Services (|), standard v1.0.2"),
        C("publics_specifiquement_adresses", "list", required=False, allowed=PUBLICS, description="Publics (|)"),
        C("frais_a_charge", "list", required=False, allowed=FRAIS, description="Frais (|)"),
        C("itinerance", "list", required=False, allowed=ITINERANCE, description="Itinérant ou Fixe"),
        C("dispositif_programmes_nationaux", "list", required=False, allowed=DISPOSITIFS, description="Dispositifs nationaux (|)"),
        C("modalites_accompagnement", "list", required=False, allowed=MODALITES_ACCOMPAGNEMENT, description="Modalités (|)"),
        C("source", "str", required=False, description="Producteur de la donnée"),
        C("date_maj", "date", description="Date de mise à jour"),
    ),
    key=("id",),
    description="Lieux de médiation numérique (champs du standard national v1.0.2, sans les coordonnées de contact).",
    foreign_keys=(ForeignKey("territory_code", "territories", "territory_code", LOCAL_TERRITORY),),
))
_add(T(
    "activities", "monitoring",
    (
        C("activity_id", "code", description="Identifiant de l'activité"),
        C("date", "date", description="Date"),
        C("lieu_id", "code", required=False, description="Lieu d'activité"),
        C("mediator_id", "code", required=False, description="Médiateur (identifiant pseudonyme)"),
        C("activity_type", "code", allowed=ACTIVITY_TYPES, description="individuel ou collectif"),
        C("place_type", "code", allowed=PLACE_TYPES, description="Type de lieu"),
        C("participants", "int", min=1, max=500, description="Nombre de personnes accompagnées"),
        C("duration_min", "int", min=1, max=1440, description="Durée en minutes"),
        C("themes", "list", allowed=THEMES, description="Thématiques (|)"),
        C("beneficiary_commune_code", "code", required=False, pattern=INSEE, description="Commune (ou arrondissement) de résidence des bénéficiaires (ancienne disposition à une valeur par activité ; sinon table participants)"),
        C("age_band", "code", required=False, allowed=AGE_BANDS, description="Tranche d'âge (ancienne disposition à une valeur par activité ; sinon table participants)"),
        C("gender", "code", required=False, allowed=GENDERS, description="Genre (ancienne disposition ; sinon table participants)"),
        C("social_status", "code", required=False, allowed=SOCIAL_STATUSES, description="Statut social (ancienne disposition ; sinon table participants)"),
        C("place_commune_code", "code", required=False, pattern=INSEE, description="Commune (ou arrondissement) du lieu : celle de la structure, sinon celle du lieu saisi ; à distance : celle de la structure employeuse"),
    ),
    key=("activity_id",),
    description="Activités (compte-rendu d'activité de La Coop de la médiation numérique) : une ligne par activité ; ses participants sont dans la table participants.",
    foreign_keys=(
        ForeignKey("lieu_id", "lieux", "id"),
        ForeignKey("beneficiary_commune_code", "territories", "territory_code", LOCAL_TERRITORY),
    ),
    roadmap_dates=("date",),
))
_add(T(
    "participants", "monitoring",
    (
        C("activity_id", "code", description="Activité"),
        C("participant_index", "int", min=1, max=500, description="Rang du participant dans l'activité (1 à n)"),
        C("commune_code", "code", required=False, pattern=INSEE, description="Commune (ou arrondissement) de résidence, code INSEE ; peut être hors du référentiel"),
        C("age_band", "code", allowed=AGE_BANDS, description="Tranche d'âge (non_communique si inconnue)"),
        C("gender", "code", allowed=GENDERS, description="Genre (non_communique si inconnu)"),
        C("social_status", "code", allowed=SOCIAL_STATUSES, description="Statut social (non_communique si inconnu)"),
        C("demographics_random", "bool", description="Vrai si La Coop a attribué âge, genre et statut au hasard (participants anonymes d'un atelier collectif) ou si l'appariement est arbitraire : seuls les totaux par activité ont un sens"),
        C("beneficiary_key", "code", required=False, description="Clé pseudonyme du bénéficiaire (HMAC, clé secrète hors du bundle), vide si anonyme"),
    ),
    key=("activity_id", "participant_index"),
    description="Participants des activités (un accompagnement = un bénéficiaire × une activité) : résidence, âge, genre, statut.",
    foreign_keys=(ForeignKey("activity_id", "activities", "activity_id"),),
    required=False,
))
_add(T(
    "budget_transactions", "monitoring",
    (
        C("transaction_id", "code", description="Identifiant"),
        C("budget_line_id", "code", description="Ligne budgétaire"),
        C("action_code", "code", required=False, description="Action"),
        C("date", "date", description="Date d'engagement ou de paiement"),
        C("kind", "code", allowed=TRANSACTION_KINDS, description="commitment (engagement) ou payment (paiement)"),
        C("amount_eur", "money", min=0, description="Montant en euros"),
        C("reference", "str", required=False, description="Pièce (convention, facture)"),
    ),
    key=("transaction_id",),
    description="Engagements et paiements datés par ligne budgétaire.",
    foreign_keys=(
        ForeignKey("budget_line_id", "budget_lines", "budget_line_id"),
        ForeignKey("action_code", "actions", "action_code"),
    ),
    roadmap_dates=("date",),
))
_add(T(
    "schedule_status", "monitoring",
    (
        C("task_id", "code", description="Tâche du chronogramme"),
        C("status_date", "date", description="Date du point d'avancement"),
        C("status", "code", allowed=TASK_STATUSES, description="not_started, in_progress, done, cancelled"),
        C("actual_start", "date", required=False, description="Début réel"),
        C("actual_end", "date", required=False, description="Fin réelle"),
        C("progress_pct", "float", required=False, min=0, max=100, description="Avancement en %"),
        C("comment", "str", required=False, description="Commentaire"),
    ),
    key=("task_id", "status_date"),
    description="Points d'avancement datés des tâches du chronogramme.",
    foreign_keys=(ForeignKey("task_id", "schedule_tasks", "task_id"),),
    roadmap_dates=("status_date",),
))
_add(T(
    "trainings", "monitoring",
    (
        C("training_id", "code", description="Identifiant"),
        C("date", "date", description="Date de départ en formation"),
        C("training_type", "code", allowed=TRAINING_TYPES, description="Type de formation"),
        C("structure_type", "code", allowed=STRUCTURE_TYPES, description="Type de structure"),
        C("structure_name", "str", required=False, description="Structure"),
        C("commune_code", "code", required=False, pattern=INSEE, description="Commune de la structure"),
        C("departures", "int", min=0, description="Nombre de départs en formation"),
        C("funded_by_training_fund", "bool", description="Financé par le fonds de formation FNE"),
    ),
    key=("training_id",),
    description="Départs en formation (fonds de formation FNE Aidants Connect / aidants numériques).",
    foreign_keys=(ForeignKey("commune_code", "territories", "territory_code", LOCAL_TERRITORY),),
    roadmap_dates=("date",),
))
_add(T(
    "refurbishment", "monitoring",
    (
        C("record_id", "code", description="Identifiant"),
        C("period_start", "date", description="Début de la période (mois)"),
        C("operator", "str", description="Opérateur"),
        C("commune_code", "code", pattern=INSEE, description="Commune"),
        C("devices_collected", "int", min=0, description="Matériels collectés"),
        C("devices_refurbished", "int", min=0, description="Matériels reconditionnés"),
        C("devices_distributed", "int", min=0, description="Matériels distribués"),
    ),
    key=("record_id",),
    description="Filière de reconditionnement : matériels collectés, reconditionnés, distribués.",
    foreign_keys=(ForeignKey("commune_code", "territories", "territory_code", LOCAL_TERRITORY),),
    roadmap_dates=("period_start",),
))
_add(T(
    "events", "monitoring",
    (
        C("event_id", "code", description="Identifiant"),
        C("date", "date", description="Date"),
        C("action_code", "code", description="Action"),
        C("event_type", "code", allowed=EVENT_TYPES, description="Type"),
        C("title", "str", description="Intitulé"),
        C("venue_commune_code", "code", pattern=INSEE, description="Commune du lieu"),
        C("participants", "int", min=0, description="Participants"),
    ),
    key=("event_id",),
    description="Événements et expositions (axe 3, journées d'échanges).",
    foreign_keys=(
        ForeignKey("action_code", "actions", "action_code"),
        ForeignKey("venue_commune_code", "territories", "territory_code", LOCAL_TERRITORY),
    ),
    roadmap_dates=("date",),
))
_add(T(
    "network_meetings", "monitoring",
    (
        C("meeting_id", "code", description="Identifiant"),
        C("date", "date", description="Date"),
        C("action_code", "code", description="Action"),
        C("meeting_type", "code", allowed=MEETING_TYPES, description="Type de réunion"),
        C("participants_collectivite", "int", min=0, description="Participants : collectivités"),
        C("participants_association", "int", min=0, description="Participants : associations"),
        C("participants_etat", "int", min=0, description="Participants : services de l'État"),
        C("participants_autre", "int", min=0, description="Participants : autres"),
    ),
    key=("meeting_id",),
    description="Réunions du réseau, participants par type de structure.",
    foreign_keys=(ForeignKey("action_code", "actions", "action_code"),),
    roadmap_dates=("date",),
))

# Governance (issue 11): the COPIL/COTHEC held and the decisions taken, with their follow-up.
INSTANCES = ("copil", "cothec")
FOLLOW_UP_STATUSES = ("done", "in_progress", "not_done", "dropped")
_add(T(
    "meetings", "monitoring",
    (
        C("meeting_id", "code", description="Identifiant"),
        C("date", "date", description="Date de la réunion"),
        C("instance", "code", allowed=INSTANCES, description="copil ou cothec"),
        C("chair", "str", description="Présidence (fonction ou structure)"),
        C("participants_n", "int", min=0, description="Nombre de participants"),
        C("structures", "list", description="Structures représentées, séparées par | (jamais de nom de personne)"),
        C("note", "str", required=False, description="Remarque"),
    ),
    key=("meeting_id",),
    description="Réunions de gouvernance tenues (COPIL, COTHEC) : date, présidence, structures représentées.",
    required=False,
    roadmap_dates=("date",),
))
_add(T(
    "decisions", "monitoring",
    (
        C("decision_id", "code", description="Identifiant"),
        C("meeting_date", "date", description="Date de l'instance qui a décidé"),
        C("instance", "code", allowed=INSTANCES, description="copil ou cothec"),
        C("action_code", "code", required=False, description="Action concernée (vide : toute la feuille de route)"),
        C("decision", "str", description="Décision prise"),
        C("owner", "str", description="Responsable (fonction ou structure)"),
        C("due_date", "date", required=False, description="Échéance"),
        C("follow_up_status", "code", allowed=FOLLOW_UP_STATUSES, description="done, in_progress, not_done ou dropped"),
        C("follow_up", "str", required=False, description="Ce qu'il en est advenu"),
        C("follow_up_date", "date", required=False, description="Date du dernier point de suivi"),
    ),
    key=("decision_id",),
    description="Décisions des COPIL et COTHEC précédents et leur suivi.",
    foreign_keys=(ForeignKey("action_code", "actions", "action_code"),),
    required=False,
    roadmap_dates=("meeting_date",),
))

#: Columns that may carry personal data if a user's file has them: never published.
PERSONAL_DATA_COLUMNS = (
    "telephone", "courriel", "courriels", "email", "mail", "prenom", "nom_prenom",
    "nom_beneficiaire", "prenom_beneficiaire", "adresse_beneficiaire",
)


def table_names(group: Optional[str] = None) -> list:
    """Return the names of the bundle's tables, optionally of one group."""
    if group is not None and group not in ("reference", "roadmap", "monitoring"):
        raise ValueError(f"unknown group {group!r}, expected 'reference', 'roadmap' or 'monitoring'")
    return [t.name for t in TABLES.values() if group is None or t.group == group]
