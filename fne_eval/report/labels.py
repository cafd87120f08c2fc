"""Hold the ONE dictionary of French labels for codes and columns shown in reports.

Evaluation functions return English snake_case columns and raw codes; reports show
French words. Every translation lives here: :data:`COLUMNS` for column headers and
:data:`CODES` for the values of each closed vocabulary of :mod:`fne_eval.bundle.spec`.
Unknown codes and columns fall back to themselves (never an error, never a blank).
"""
from __future__ import annotations

import re
from typing import Iterable, Optional

import pandas as pd

#: French headers of the columns that reports display.
COLUMNS = {
    # territories
    "territory_code": "Code", "territory_name": "Territoire", "level": "Niveau",
    "commune_code": "Commune", "commune_name": "Commune", "epci_siren": "EPCI",
    "epci_name": "EPCI", "departement_code": "Département", "unit_code": "Code",
    "population": "Population", "population_year": "Millésime", "year": "Année",
    "ifn_total": "IFN", "ifn": "IFN", "vintage": "Millésime",
    # generic results
    "value": "Valeur", "ci_lower": "IC bas", "ci_upper": "IC haut", "n_obs": "Effectif",
    "numerator": "Numérateur", "denominator": "Dénominateur", "unit": "Unité",
    "rate_pct": "Taux", "share_pct": "Part", "period": "Période", "month": "Mois",
    "date": "Date", "label": "Libellé", "indicator": "Indicateur", "source": "Source",
    "reference_date": "Date de référence", "note": "Remarque", "count": "Nombre",
    # roadmap
    "axis_code": "Axe", "axis_title": "Intitulé de l'axe", "action_code": "Action",
    "action_title": "Intitulé de l'action", "referents": "Référents", "partners": "Partenaires",
    "start_date": "Début", "end_date": "Fin",
    # indicators
    "indicator_code": "Code", "kind": "Nature", "direction": "Sens", "baseline": "Référence",
    "baseline_value": "Référence", "baseline_date": "Date de référence", "target": "Cible",
    "target_value": "Cible", "target_year": "Année cible", "progress_pct": "Avancement",
    "expected_value": "Attendu à date", "on_track": "Sur la trajectoire",
    "target_source": "Origine de la cible",
    # budget
    "budget_line_id": "Ligne", "line_label": "Ligne budgétaire", "funder": "Financeur",
    "recipient": "Récipiendaire", "planned_eur": "Prévu", "committed_eur": "Engagé",
    "paid_eur": "Payé", "remaining_eur": "Reste à engager", "amount_eur": "Montant",
    "commitment_rate_pct": "Taux d'engagement", "payment_rate_pct": "Taux de paiement",
    "paid_of_committed_pct": "Payé / engagé", "elapsed_pct": "Temps écoulé",
    "burn_ratio": "Ratio de consommation", "burn_label": "Rythme",
    "departures": "Départs", "target_departures": "Objectif", "remaining": "Restant",
    "share_achieved_pct": "Objectif atteint", "training_type": "Type de formation",
    "structure_type": "Type de structure",
    # schedule / météo
    "task_id": "Tâche", "task_label": "Tâche", "planned_start": "Début prévu",
    "planned_end": "Fin prévue", "actual_start": "Début réel", "actual_end": "Fin réelle",
    "status": "Statut", "state": "État", "slippage_days": "Glissement (jours)",
    "on_time": "Dans les temps", "on_time_pct": "Tâches dans les temps", "n_tasks": "Tâches",
    "computed_status": "Météo calculée", "reasons": "Motifs", "override_status": "Météo COPIL",
    "override_justification": "Justification COPIL", "override_date": "Date de décision",
    "final_status": "Météo retenue", "meteo": "Météo", "rule": "Règle",
    # activity
    "activities": "Accompagnements", "accompaniments": "Accompagnements",
    "participants": "Personnes accompagnées", "persons": "Personnes",
    "age_band": "Tranche d'âge", "gender": "Genre", "social_status": "Statut",
    "theme": "Thématique", "themes": "Thématiques", "activity_type": "Type d'accompagnement",
    "place_type": "Lieu", "duration_min": "Durée (min)",
    "reporting_rate_pct": "Taux de remontée", "lieux_reporting": "Lieux ayant saisi",
    "lieux_expected": "Lieux attendus", "completeness_pct": "Complétude",
    # offer
    "lieux": "Lieux", "n_lieux": "Lieux", "lieux_per_10k": "Lieux pour 10 000 hab.",
    "nom": "Lieu", "commune": "Commune", "dispositif": "Dispositif",
    "dispositif_programmes_nationaux": "Dispositifs nationaux", "services": "Services",
    "is_exposed": "Commune exposée", "has_lieu": "Avec un lieu",
    "printed_name": "Commune", "printed_population": "Population (imprimée)",
    "printed_ifn": "IFN (imprimé)", "printed_fragile_population": "Personnes fragiles",
    "printed_share_pct": "Part de la population",
    "fragile_population": "Personnes fragiles",
    # quality
    "severity": "Gravité", "table": "Table", "key": "Clé", "message": "Constat",
    "description": "Description",
    # impact
    "estimate": "Estimation", "effect": "Effet estimé", "effect_pct": "Effet estimé",
    "p_value": "p-valeur", "method": "Méthode", "group": "Groupe",
    "exposed": "Communes exposées", "others": "Autres communes",
    # events, refurbishment, network
    "title": "Intitulé", "event_type": "Type", "venue_commune_code": "Commune",
    "operator": "Opérateur", "devices_collected": "Collectés",
    "devices_refurbished": "Reconditionnés", "devices_distributed": "Distribués",
    "meeting_type": "Réunion",
    # changes
    "previous": "Année précédente", "current": "Année évaluée", "change": "Évolution",
    "change_pct": "Évolution",
    "shown": "Valeur", "label_name": "Label national", "n_findings": "Constats",
    "main_reason": "Motif principal", "proposal": "Proposition", "target_origin": "Cible fixée par",
    "participants_same_perimeter": "Année, même périmètre",
    "previous_same_perimeter": "Année précédente, même périmètre",
    "n_units_dropped": "Communes hors périmètre", "value_shown": "Valeur",
    "baseline_value_shown": "Réf.", "target_value_shown": "Cible", "expected_value_shown": "Attendu à date",
    "final_shown": "Météo retenue", "computed_shown": "Météo calculée",
    "figure": "Chiffre", "rule_id": "Code", "condition": "Condition",
    "lieux_france_services": "France Services", "lieux_conseillers_numeriques": "Conseillers numériques",
    "lieux_aidants_connect": "Aidants Connect", "exposed_population": "Personnes exposées",
    "accompaniments_per_1000_exposed": "Pour 1 000 personnes exposées",
    "n_activities": "Accompagnements", "n_expected": "Attendus", "n_reporting": "Ayant saisi",
}

#: French labels of the codes of each closed vocabulary.
CODES = {
    "level": {"departement": "département", "epci": "EPCI", "commune": "commune",
              "arrondissement": "arrondissement"},
    "age_band": {
        "moins_de_douze": "Moins de 12 ans", "douze_dix_huit": "12-18 ans",
        "dix_huit_vingt_quatre": "18-24 ans", "vingt_cinq_trente_neuf": "25-39 ans",
        "quarante_cinquante_neuf": "40-59 ans", "soixante_soixante_neuf": "60-69 ans",
        "soixante_dix_plus": "70 ans et plus", "non_communique": "Non communiqué",
    },
    "gender": {"masculin": "Homme", "feminin": "Femme", "non_communique": "Non communiqué"},
    "social_status": {"scolarise": "Scolarisé", "sans_emploi": "Sans emploi",
                      "en_emploi": "En emploi", "retraite": "Retraité",
                      "non_communique": "Non communiqué"},
    "activity_type": {"individuel": "Individuel", "collectif": "Collectif"},
    "place_type": {"lieu_activite": "Lieu d'activité", "domicile": "À domicile",
                   "a_distance": "À distance", "autre": "Autre"},
    "theme": {
        "diagnostic_numerique": "Diagnostic numérique",
        "prendre_en_main_du_materiel": "Prendre en main du matériel",
        "maintenance_de_materiel": "Maintenance de matériel",
        "gere_ses_contenus_numeriques": "Gérer ses contenus numériques",
        "navigation_sur_internet": "Navigation sur internet", "email": "E-mail",
        "bureautique": "Bureautique", "reseaux_sociaux": "Réseaux sociaux",
        "sante": "Santé", "banque_et_achats_en_ligne": "Banque et achats en ligne",
        "entrepreneuriat": "Entrepreneuriat",
        "insertion_professionnelle": "Insertion professionnelle",
        "securite_numerique": "Sécurité numérique", "parentalite": "Parentalité",
        "scolarite_et_numerique": "Scolarité et numérique",
        "creer_avec_le_numerique": "Créer avec le numérique",
        "culture_numerique": "Culture numérique",
        "intelligence_artificielle": "Intelligence artificielle",
        "aide_aux_demarches_administratives": "Aide aux démarches administratives",
        "papiers_elections_citoyennete": "Papiers, élections, citoyenneté",
        "famille_scolarite": "Famille, scolarité", "social_sante": "Social, santé",
        "travail_formation": "Travail, formation", "logement": "Logement",
        "transports_mobilite": "Transports, mobilité", "argent_impots": "Argent, impôts",
        "justice": "Justice", "etrangers_europe": "Étrangers, Europe",
        "loisirs_sports_culture": "Loisirs, sports, culture", "associations": "Associations",
    },
    "meteo": {"green": "Vert", "amber": "Orange", "red": "Rouge", "grey": "Gris (pas de données)"},
    "task_state": {"not_started": "Non commencée", "in_progress": "En cours", "done": "Terminée",
                   "late": "En retard", "cancelled": "Annulée",
                   "unreported": "Non renseigné (aucun suivi)"},
    "severity": {"info": "Information", "warning": "Avertissement", "error": "Erreur"},
    "indicator_kind": {"context": "Contexte", "output": "Réalisation", "outcome": "Résultat"},
    "direction": {"higher": "À la hausse", "lower": "À la baisse"},
    "transaction_kind": {"commitment": "Engagement", "payment": "Paiement"},
    "training_type": {"aidants_connect": "Aidants Connect",
                      "mediation_numerique": "Médiation numérique",
                      "accessibilite_handicap": "Accessibilité et handicap", "autre": "Autre"},
    "structure_type": {"collectivite": "Collectivité", "association": "Association",
                       "etat": "Service de l'État", "centre_social": "Centre social",
                       "entreprise": "Entreprise", "autre": "Autre"},
    "event_type": {"evenement": "Événement", "exposition": "Exposition",
                   "journee_echanges": "Journée d'échanges", "webinaire": "Webinaire"},
    "meeting_type": {"copil": "COPIL", "cothec": "COTHEC", "groupe_de_travail": "Groupe de travail",
                     "reunion_semestrielle": "Réunion semestrielle", "reseau": "Réseau",
                     "autre": "Autre"},
    "bool": {True: "Oui", False: "Non", "true": "Oui", "false": "Non"},
    "budget_by": {"action_code": "action", "axis_code": "axe", "recipient": "récipiendaire",
                  "funder": "financeur"},
    "axis": {"all": "tous les axes", "1": "axe 1", "2": "axe 2", "3": "axe 3", "4": "axe 4"},
    "table": {"activities": "Accompagnements", "lieux": "Lieux", "exposed_communes": "Annexe 3 (communes exposées)",
              "context_figures": "Chiffres de l'état des lieux", "schedule_tasks": "Chronogramme",
              "schedule_status": "Avancement du chronogramme", "budget_lines": "Lignes budgétaires",
              "budget_transactions": "Engagements et paiements", "populations": "Populations INSEE",
              "ifn": "IFN", "territories": "Territoires", "actions": "Actions", "axes": "Axes",
              "indicators": "Indicateurs", "trainings": "Formations", "events": "Événements",
              "network_meetings": "Réunions du réseau", "refurbishment": "Reconditionnement",
              "meteo_overrides": "Météos fixées par le COPIL"},
    "unit": {"persons": "personnes", "pct": "%", "eur": "€", "places": "lieux",
             "per_10k": "pour 10 000 hab.", "per_1000": "pour 1 000 hab.", "index": "indice"},
}

#: Which vocabulary a column's values belong to (for :func:`relabel`).
COLUMN_VOCABULARY = {
    "level": "level", "age_band": "age_band", "gender": "gender",
    "social_status": "social_status", "activity_type": "activity_type",
    "place_type": "place_type", "theme": "theme", "severity": "severity",
    "kind": "indicator_kind", "direction": "direction", "training_type": "training_type",
    "structure_type": "structure_type", "event_type": "event_type",
    "meeting_type": "meeting_type", "computed_status": "meteo", "override_status": "meteo",
    "final_status": "meteo", "meteo": "meteo", "state": "task_state",
    "on_track": "bool", "on_time": "bool", "is_exposed": "bool", "has_lieu": "bool",
    "table": "table",
}


def column_label(name: str) -> str:
    """Return the French header of a column (the name itself, humanised, if unknown)."""
    if name in COLUMNS:
        return COLUMNS[name]
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def code_label(vocabulary: str, code) -> str:
    """Return the French label of ``code`` in ``vocabulary`` (the code itself if unknown).

    Raises
    ------
    ValueError
        When ``vocabulary`` is not a key of :data:`CODES`.
    """
    if vocabulary not in CODES:
        raise ValueError(f"unknown vocabulary {vocabulary!r}, expected one of {sorted(CODES)}")
    table = CODES[vocabulary]
    try:
        return table.get(code, code if isinstance(code, str) else str(code))
    except TypeError:  # unhashable
        return str(code)


def relabel(df, columns: Optional[Iterable[str]] = None):
    """Return a copy of ``df`` whose coded columns show French labels.

    Only the columns listed in :data:`COLUMN_VOCABULARY` (or in ``columns``) change;
    missing values stay missing.
    """
    out = df.copy()
    cols = list(columns) if columns is not None else [c for c in out.columns if c in COLUMN_VOCABULARY]
    for col in cols:
        if col not in out.columns:
            continue
        vocab = COLUMN_VOCABULARY.get(col)
        if vocab is None:
            raise ValueError(f"column {col!r} has no vocabulary in COLUMN_VOCABULARY")
        out[col] = [v if (v is None or (not isinstance(v, str) and pd.isna(v)))
                    else code_label(vocab, v) for v in out[col].astype(object)]
    return out


#: French renderings of the log lines of the evaluation modules (regex → template), for
#: the "journal de calcul" of the reports. The modules log in English for developers.
LOG_MESSAGES = [
    (r"^budget: (?P<n>\d+) transactions on lines not in budget_lines ignored \((?P<x>.*)\)$",
     "Budget : {n} opération(s) sur des lignes budgétaires inconnues écartée(s) ({x})."),
    (r"^reporting_completeness: (?P<n>\d+) (?P<x>\S+) id\(s\) in activities not attributable to a territory$",
     "Taux de remontée : {n} identifiant(s) ({x}) des accompagnements sans territoire de rattachement."),
    (r"^suppress: (?P<n>\d+) row totals in (?P<x>.*) differ from the sum of the cells; recomputed$",
     "Secret statistique : {n} total(aux) différent(s) de la somme de leurs cases, recalculé(s)."),
    (r"^trend: (?P<n>\d+) unit-periods left out of year-on-year comparisons \(not active in both periods\)$",
     "Évolution à périmètre constant : {n} couple(s) commune × période écarté(s) de la comparaison "
     "(pas d'accompagnement sur l'une des deux périodes)."),
    (r"^did_estimate: design not estimable \((?P<a>\d+) treated, (?P<b>\d+) control, (?P<c>\d+) pre, "
     r"(?P<d>\d+) post periods\)$",
     "Estimation d'impact impossible : {a} commune(s) exposée(s), {b} témoin(s), {c} période(s) avant, "
     "{d} après."),
    (r"^did_estimate: pre-trend test failed: (?P<x>.*)$",
     "Estimation d'impact : le test des tendances parallèles n'a pas pu être calculé ({x})."),
    (r"^population (?P<y>\S+) incomplete for (?P<n>\d+) territories: rates left missing$",
     "Population {y} incomplète pour {n} territoire(s) : taux non calculés."),
    (r"^exposed_population: (?P<n>\d+) Annexe 3 rows without a resolved code \(ignored\)$",
     "Annexe 3 : {n} ligne(s) sans code de commune reconnu, écartée(s)."),
    (r"^concentration_curve: (?P<n>\d+) activity rows not on a local unit \(left out\)$",
     "Concentration de l'offre : {n} accompagnement(s) hors commune ou arrondissement, écarté(s)."),
    (r"^aggregate\((?P<x>[^)]*)\): (?P<n>\d+) of (?P<t>\d+) rows have no territory code \(dropped\)$",
     "Agrégation : {n} ligne(s) sur {t} sans code de territoire, écartée(s)."),
    (r"^(?P<w>.+?): (?P<n>\d+) of (?P<t>\d+) rows have no match \(dropped\)$",
     "{n} ligne(s) sur {t} sans correspondance, écartée(s) ({w})."),
    (r"^(?P<w>.+?): (?P<n>\d+) of (?P<t>\d+) rows have no match \(kept with missing values\)$",
     "{n} ligne(s) sur {t} sans correspondance, gardée(s) avec des valeurs manquantes ({w})."),
]

#: French names of the steps that log (the ``what`` of :data:`LOG_MESSAGES`).
LOG_STEPS = {"exposed_population: units without IFN": "communes exposées sans IFN",
             "units without IFN": "communes sans IFN"}


def log_label(message: str) -> str:
    """Return the French rendering of an evaluation module's log line.

    Known lines (:data:`LOG_MESSAGES`) are translated; an unknown one is returned as it
    is, marked "(message technique)" so that a reader knows why it is not in French.
    """
    text = " ".join(str(message).split())
    for pattern, template in LOG_MESSAGES:
        m = re.match(pattern, text)
        if m:
            parts = {k: (LOG_STEPS.get(v, v) if k == "w" else v) for k, v in m.groupdict().items()}
            return template.format(**parts)
    return f"(message technique) {text}"


#: French names of the key fields of data-quality findings (``field=value`` or ``field``).
KEY_FIELDS = {"row_number": "ligne", "activity_id": "accompagnement", "id": "lieu", "figure_id": "chiffre",
              "task_id": "tâche", "pivot": "SIRET pivot", "territory_code": "code",
              "printed_postal_code": "code imprimé", "printed_population": "population imprimée",
              "printed_ifn": "IFN imprimé"}


def key_label(key) -> str:
    """Return the French reading of a finding's key: ``row_number=19`` → ``ligne 19``.

    Several ``field=value`` parts separated by ``", "`` or ``"; "`` are each translated;
    an unknown field is kept as it is.
    """
    def _one(m):
        field, value = m.group(1), m.group(2)
        name = KEY_FIELDS.get(field, field)
        return f"{name} {value}" if value is not None else name

    return re.sub(r"\b([a-z][a-z_]*)(?:=([^,;]*))?", _one, str(key))


# --------------------------------------------------------------------------- rules in French
#: French sentence of every rule of the chronogramme, the météo and the targets, by rule id.
#: The evaluation modules return ids and figures (their thresholds live there:
#: ``schedule.SCHEDULE_THRESHOLDS``, ``meteo.METEO_THRESHOLDS``); the report fills the
#: ``{placeholders}`` with the thresholds.
RULE_TEXT = {
    # chronogramme (fne_eval.evaluate.schedule)
    "S1": "Tâche en retard : non terminée alors que sa fin prévue est passée.",
    "S2": "Tâche en retard : son avancement est inférieur de plus de {progress_margin_pct} points à la part "
          "de sa période prévue déjà écoulée.",
    "S3": "Démarrage en retard : tâche non commencée plus de {grace_days} jours après son début prévu "
          "(ce n'est pas à lui seul un retard de fin).",
    "S4": "Démarrage tardif : tâche commencée plus de {grace_days} jours après son début prévu "
          "(information, sans effet sur la météo).",
    "S5": "Fin tardive : tâche terminée après sa fin prévue.",
    # météo (fne_eval.evaluate.meteo)
    "R1": "Rouge : une tâche non terminée a dépassé sa fin prévue de plus de {overdue_red_days} jours.",
    "R2": "Rouge : plus de {burn_red_elapsed_pct} % de la période de l'action est écoulée et le taux de paiement "
          "est inférieur à {burn_red_ratio_pct} % de la part de temps écoulé.",
    "R3": "Rouge : plus de {indicator_red_elapsed_pct} % de la période de l'action est écoulée et un indicateur "
          "a parcouru moins de {indicator_red_progress_pct} % du chemin vers la cible de la feuille de route.",
    "A1": "Orange : une tâche non terminée a dépassé sa fin prévue de plus de {overdue_amber_days} jours.",
    "A2": "Orange : une tâche est en retard sur son avancement (règle S2 du chronogramme).",
    "A3": "Orange : plus de {burn_amber_elapsed_pct} % de la période de l'action est écoulée et le taux de "
          "paiement est inférieur à {burn_amber_ratio_pct} % de la part de temps écoulé.",
    "A4": "Orange : un indicateur est en dessous de la trajectoire vers la cible fixée par la feuille de route.",
    "V": "Vert : des données de suivi existent et aucune règle rouge ou orange n'est déclenchée.",
    "G": "Gris : pas de données de suivi pour l'action à cette date.",
    "C": "À confirmer : un constat qui repose sur une date ou une cible déduite lors de la transcription "
         "de la feuille de route est marqué « à confirmer » ; il ne peut pas, à lui seul, mettre une action "
         "en rouge (elle reste orange).",
    # cibles (fne_eval.evaluate.targets)
    "T1": "Sur la trajectoire / hors trajectoire : seulement pour une cible fixée par la feuille de route, "
          "une valeur de l'année évaluée et une cible différente de la valeur de référence.",
    "T2": "Proposition : cible proposée à la validation du COPIL, montrée à part et jamais comptée.",
    "T3": "Donnée non à jour : la dernière valeur connue est antérieure à l'année évaluée ; pas de verdict.",
    "T4": "Cible égale à la valeur de référence : pas de progression attendue, pas de verdict.",
    "T0": "Pas de cible pour l'année : pas de verdict.",
}

#: French words of the target verdicts.
VERDICT_TEXT = {"on_track": "Sur la trajectoire", "off_track": "Hors trajectoire",
                "proposal": "Cible proposée (non comptée)", "stale": "Donnée non à jour",
                "target_equals_baseline": "Cible égale à la référence (sans verdict)",
                "no_target": "Sans cible"}


def rule_text(rule_id: str, thresholds: Optional[dict] = None) -> str:
    """Return the French sentence of a rule with its thresholds filled in."""
    text = RULE_TEXT.get(rule_id, rule_id)
    values = dict(thresholds or {})
    for k in ("burn_red_ratio", "burn_amber_ratio"):
        if k in values:
            values[k + "_pct"] = int(round(100 * float(values[k])))
    try:
        return text.format(**values)
    except (KeyError, IndexError):
        return text
