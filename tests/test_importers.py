"""Tests of fne_eval.ingest.opendata on the real sample files and on small inline files.

Expected counts come from PROVENANCE.md section 3 (written when the samples were
extracted), not from the importer's own output.
"""
from decimal import Decimal

import pandas as pd
import pytest

from fne_eval.bundle.spec import TABLES
from fne_eval.ingest.opendata import (
    STANDARD_EXAMPLE_PATH, ImportReport, is_personal_column, parse_french_amount,
    read_conseillers_numeriques, read_france_services, read_lieux_aix_2024,
    read_lieux_hubdusud_2023, read_lieux_standard, read_text_csv, resolve_commune,
    summarize_conseillers,
)

LIEUX_COLUMNS = TABLES["lieux"].column_names


@pytest.fixture(scope="module")
def hubdusud():
    rep = ImportReport()
    return read_lieux_hubdusud_2023(report=rep), rep


# --------------------------------------------------------------------------- resolve_commune
@pytest.mark.parametrize("cp, name, insee, expected", [
    ("13007", "Marseille", None, ("13055", "13207")),  # postcode 13007 → 7e arrondissement
    ("13016", "MARSEILLE 16", "", ("13055", "13216")),
    ("13007", "7e Arrondissement", None, ("13055", "13207")),  # the name tells the arrondissement
    ("13000", "MARSEILLE", None, ("13055", "13055")),  # no arrondissement: the commune
    ("13100", "Saint-Marc-Jaumegarde", None, ("13095", "13095")),  # COG: 13095
    ("13100", "Saint-Antonin-sur-Bayon", None, ("13090", "13090")),  # COG: 13090
    ("13114", "Puylobier", None, ("13079", "13079")),  # misspelt; 13114 is Puyloubier's only postcode
    ("13760", "Saint-Andiol", None, ("13089", "13089")),  # wrong postcode (13670), unique name
    ("13540", "PUYRICARD", None, ("13001", "13001")),  # a village of Aix: postcode alone
    ("51100", "Reims", "51454", ("51454", "51454")),  # outside the département: code kept
    ("13009", "Marseille", "13055", ("13055", "13209")),
])
def test_resolve_commune(cp, name, insee, expected):
    res = resolve_commune(cp, name, insee)
    assert (res.commune_code, res.territory_code) == expected


def test_resolve_commune_never_takes_a_postcode_for_an_insee_code():
    # "13001" is Marseille 1er's postcode and Aix-en-Provence's INSEE code
    res = resolve_commune("13001", "MARSEILLE", "13001")
    assert res.territory_code == "13201"
    # "13100" is Saint-Marc-Jaumegarde's postcode and Saint-Rémy-de-Provence's INSEE code
    res = resolve_commune("13100", "Saint-Marc-Jaumegarde", "13100")
    assert res.territory_code == "13095"


def test_resolve_commune_unresolved():
    assert resolve_commune("99999", "Nulle-Part", None).method == "non_resolu"


# --------------------------------------------------------------------------- reading
def test_read_text_csv_cp1252_semicolon(tmp_path):
    p = tmp_path / "f.csv"
    p.write_bytes("nom;commune\nCentre social Élan;Arles\n".encode("cp1252"))
    df, enc, sep = read_text_csv(p)
    assert (enc, sep) == ("cp1252", ";")
    assert df.loc[0, "nom"] == "Centre social Élan"


def test_read_text_csv_bom_comma(tmp_path):
    p = tmp_path / "f.csv"
    p.write_bytes("\ufeffnom,commune\n\"A; B\",Arles\n".encode("utf-8"))
    df, enc, sep = read_text_csv(p)
    assert (enc, sep) == ("utf-8-sig", ",")
    assert list(df.columns) == ["nom", "commune"] and df.loc[0, "nom"] == "A; B"


@pytest.mark.parametrize("name, personal", [
    ("telephone", True), ("Téléphone", True), ("courriels", True), ("courriel", True),
    ("mail", True), ("e-mail", True), ("email", True), ("nom", False), ("commune", False),
    ("modalites_acces", False), ("formations_labels", False),
])
def test_is_personal_column(name, personal):
    assert is_personal_column(name) is personal


# --------------------------------------------------------------------------- Hub du Sud 2023
def test_hubdusud_rows_and_columns(hubdusud):
    df, rep = hubdusud
    assert len(df) == 226 and rep.n_rows_read == 226  # PROVENANCE.md: 226 rows
    assert list(df.columns) == LIEUX_COLUMNS
    assert df["id"].is_unique
    assert df["territory_code"].notna().all()
    assert rep.unresolved == []


def test_hubdusud_labels(hubdusud):
    df, _ = hubdusud
    disp = df["dispositif_programmes_nationaux"].fillna("")
    # PROVENANCE.md: labels CNFS 120, France Services 47
    assert disp.str.contains("Conseillers numériques", regex=False).sum() == 120
    assert disp.str.contains("France Services", regex=False).sum() == 47
    assert not disp.str.contains("CNFS").any()


def test_hubdusud_values_in_v1_vocabularies(hubdusud):
    df, _ = hubdusud
    spec = TABLES["lieux"]
    for col in ("services", "publics_specifiquement_adresses", "frais_a_charge",
                "dispositif_programmes_nationaux", "modalites_accompagnement"):
        allowed = set(spec.column(col).allowed)
        values = {v for cell in df[col].dropna() for v in cell.split("|")}
        assert values <= allowed, (col, values - allowed)


def test_hubdusud_placeholder_dates_kept(hubdusud):
    df, _ = hubdusud
    # PROVENANCE.md: 47 rows carry the placeholder 1970-01-01
    assert (df["date_maj"] == pd.Timestamp("1970-01-01")).sum() == 47
    assert df["date_maj"].notna().all()


def test_hubdusud_territories(hubdusud):
    df, _ = hubdusud
    # PROVENANCE.md: 98 lieux in Marseille; one has postcode 13000 (no arrondissement)
    marseille = df["territory_code"].str.match(r"^132\d\d$") | (df["territory_code"] == "13055")
    assert marseille.sum() == 98
    assert (df["territory_code"] == "13055").sum() == 1


def test_hubdusud_unmapped_public_reported(hubdusud):
    _, rep = hubdusud
    # « Adultes » appears in 28 + 9 rows of publics_accueillis and has no v1 value
    assert rep.unmapped[("publics", "Adultes")] == 37
    assert rep.mapped[("labels_nationaux", "CNFS", "Conseillers numériques")] == 120


# --------------------------------------------------------------------------- standard v1.0.2
def test_standard_example_is_valid_and_contacts_dropped():
    rep = ImportReport()
    df = read_lieux_standard(STANDARD_EXAMPLE_PATH, report=rep)
    assert rep.violations == []
    assert len(df) == 1 and list(df.columns) == LIEUX_COLUMNS
    row = df.iloc[0]
    # values read by hand in exemple-valide.csv
    assert row["id"] == "structure-1" and row["code_insee"] == "51454" and row["territory_code"] == "51454"
    assert row["publics_specifiquement_adresses"] == "Jeunes|Femmes"
    assert row["itinerance"] == "Itinérant"
    assert set(rep.personal_columns) == {"telephone", "courriels"}
    assert not {"telephone", "courriels"} & set(df.columns)


HEADER = ("id,pivot,nom,commune,code_postal,code_insee,adresse,telephone,courriels,date_maj,"
          "services,frais_a_charge,itinerance")


def _std_file(tmp_path, *rows, encoding="utf-8"):
    p = tmp_path / "lieux.csv"
    p.write_bytes(("\n".join((HEADER,) + rows) + "\n").encode(encoding))
    return p


def test_standard_violations_named_with_row_and_field(tmp_path):
    p = _std_file(
        tmp_path,
        "a1,12345678901234,Lieu A,Marseille,13003,,1 rue X,+33491000000,a@b.fr,2024-05-01,"
        "Aide aux démarches administratives,Gratuit,Fixe",
        "a1,123,Lieu B,Arles,1320,13004,,,,01/05/2024,Cours de cuisine,Gratos,Mobile",
    )
    rep = ImportReport()
    df = read_lieux_standard(p, report=rep)
    got = {(v["row"], v["field"]) for v in rep.violations}
    # row 2 breaks: id not unique, pivot too short, postcode 4 digits, adresse missing,
    # date not ISO, services / frais / itinerance outside the vocabularies
    assert got == {(2, "id"), (2, "pivot"), (2, "code_postal"), (2, "adresse"), (2, "date_maj"),
                   (2, "services"), (2, "frais_a_charge"), (2, "itinerance")}
    # row 1 is kept, in Marseille 3e; row 2 has an unusable postcode → left out, reported
    assert list(df["territory_code"]) == ["13203"]
    assert rep.personal_columns == {"telephone": 1, "courriels": 1}
    assert all("+33" not in v["value"] and "@" not in v["value"] for v in rep.violations)


def test_standard_missing_required_column(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("id,nom,commune,code_postal,date_maj\nx,Lieu,Arles,13200,2024-01-01\n", encoding="utf-8")
    rep = ImportReport()
    read_lieux_standard(p, report=rep)
    assert {(v["row"], v["field"]) for v in rep.violations} == {(0, "pivot"), (0, "adresse")}


def test_standard_cp1252_semicolon(tmp_path):
    p = tmp_path / "l.csv"
    p.write_bytes(("id;pivot;nom;commune;code_postal;adresse;date_maj\n"
                   "x;12345678901234;Médiathèque;Châteaurenard;13160;1 rue Z;2024-01-01\n").encode("cp1252"))
    rep = ImportReport()
    df = read_lieux_standard(p, report=rep)
    assert rep.violations == [] and rep.separator == ";" and rep.encoding == "cp1252"
    assert df.loc[0, "nom"] == "Médiathèque" and df.loc[0, "territory_code"] == "13027"


# --------------------------------------------------------------------------- Aix 2024
def test_aix_2024():
    rep = ImportReport()
    df = read_lieux_aix_2024(report=rep)
    assert len(df) == 38  # PROVENANCE.md: 38 rows
    assert (df["territory_code"] == "13001").all()
    values = {v for cell in df["services"].dropna() for v in cell.split("|")}
    assert values <= set(TABLES["lieux"].column("services").allowed)
    # « Accéder à du matériel » is on 22 rows of the file (counted with grep)
    assert rep.mapped[("services", "Accéder à du matériel", "Accès internet et matériel informatique")] == 22
    assert not rep.unmapped
    # CNFS on 17 rows, Aidants Connect on 11, France Services on 10 (counted in the file)
    disp = df["dispositif_programmes_nationaux"].fillna("")
    assert disp.str.contains("Conseillers numériques", regex=False).sum() == 17
    assert disp.str.contains("Aidants Connect", regex=False).sum() == 11


# --------------------------------------------------------------------------- France services
def test_france_services():
    rep = ImportReport()
    df = read_france_services(report=rep)
    assert len(df) == 32  # PROVENANCE.md: 32
    assert (df["itinerance"] == "Itinérant").sum() == 4  # PROVENANCE.md: itinerance=Oui 4
    assert (df["dispositif_programmes_nationaux"] == "France Services").all()
    assert df["id"].is_unique
    # « Les Hauts de Mazargues », postcode 13009, printed 13055 → Marseille 9e
    row = df[df["nom"] == "France services Les Hauts de Mazargues"].iloc[0]
    assert row["territory_code"] == "13209"
    assert not any(c in df.columns for c in ("mail", "telephone", "commentaire"))


# --------------------------------------------------------------------------- conseillers numériques
def test_parse_french_amount():
    assert parse_french_amount("37 428,83") == Decimal("37428.83")
    assert parse_french_amount("1\u202f234 €") == Decimal("1234.00")
    assert parse_french_amount("") is None
    with pytest.raises(ValueError):
        parse_french_amount("beaucoup")


def test_conseillers_numeriques_totals():
    df = read_conseillers_numeriques()
    assert len(df) == 63  # PROVENANCE.md: 63 structures
    # PROVENANCE.md: 81 postes attribués, 66 recrutés, 65 formés
    assert (df["n_postes_attribues"].sum(), df["n_recrutes"].sum(), df["n_formes"].sum()) == (81, 66, 65)
    assert df.loc[0, "investment_eur"] == Decimal("37428.83")
    assert all(isinstance(v, Decimal) for v in df["investment_eur"])
    by_epci = summarize_conseillers(df, "epci").set_index("territory_code")["n_structures"].to_dict()
    # PROVENANCE.md: AMP 57, ACCM 5, CATP 1
    assert by_epci == {"200054807": 57, "241300417": 5, "200035087": 1}
    dep = summarize_conseillers(df, "departement").iloc[0]
    assert dep["n_postes_attribues"] == 81
    assert dep["investment_eur"] == sum(df["investment_eur"], Decimal("0"))


def test_summarize_conseillers_unknown_level():
    with pytest.raises(ValueError):
        summarize_conseillers(read_conseillers_numeriques(), "region")


# --------------------------------------------------------------------------- CLI
def test_cli_import_writes_bundle_csv(tmp_path, capsys):
    from fne_eval.cli.main import main

    out = tmp_path / "lieux.csv"
    rc = main(["import", "lieux-standard", str(STANDARD_EXAMPLE_PATH), "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Colonnes de contact supprimées" in text and "courriels" in text
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(back.columns) == LIEUX_COLUMNS
    assert back.loc[0, "date_maj"] == "2024-04-02"
    assert "laquincaillerie" not in out.read_text(encoding="utf-8")  # no e-mail survives
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left


def test_cli_import_conseillers(tmp_path):
    from fne_eval.cli.main import main
    from fne_eval.ingest.opendata import CONSEILLERS_PATH

    out = tmp_path / "cnum.csv"
    assert main(["import", "conseillers-numeriques", str(CONSEILLERS_PATH), "--out", str(out)]) == 0
    back = pd.read_csv(out, dtype=str)
    assert len(back) == 63 and back.loc[0, "investment_eur"] == "37428.83"


def test_cli_import_unreadable(tmp_path):
    from fne_eval.cli.main import main

    assert main(["import", "lieux-standard", str(tmp_path / "absent.csv"), "--out", str(tmp_path / "o.csv")]) == 2
    assert not (tmp_path / "o.csv").exists()


def test_resolve_commune_locality_of_a_commune():
    # Aix-la-Duranne is a district of Aix-en-Provence; 13100 serves 5 communes, one starts with « Aix »
    res = resolve_commune("13100", "AIX-LA-DURANNE")
    assert res.territory_code == "13001" and res.method == "code_postal+nom approché"
    # « Saint-… » is too common a first word to decide
    assert resolve_commune("13100", "Saint-Inconnu").method == "non_resolu"


def test_hubdusud_without_derived_columns(tmp_path):
    from fne_eval.ingest.opendata import HUBDUSUD_2023_PATH

    raw = pd.read_csv(HUBDUSUD_2023_PATH, dtype=str, keep_default_na=False)
    raw = raw[[c for c in raw.columns if not c.startswith("derive_")]]
    p = tmp_path / "hub.csv"
    raw.to_csv(p, index=False, sep=";", encoding="cp1252", errors="replace")
    rep = ImportReport()
    df = read_lieux_hubdusud_2023(p, report=rep)
    ref = read_lieux_hubdusud_2023()
    assert rep.separator == ";" and rep.unresolved == [] and len(df) == 226
    # the shared resolver finds the same territory as the sample's derive_* columns
    assert (df["territory_code"] == ref["territory_code"]).all()


@pytest.mark.parametrize("reader", [read_lieux_hubdusud_2023, read_lieux_aix_2024, read_france_services,
                                    read_conseillers_numeriques])
def test_no_personal_data_survives(reader):
    import re

    df = reader()
    assert not [c for c in df.columns if is_personal_column(c)]
    text = [str(v) for v in df.astype(object).to_numpy().ravel()]
    email = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
    phone = re.compile(r"(?<![\w.])(?:\+33\s?|0)[1-9](?:[ .-]?\d{2}){4}(?!\d)")  # not inside a decimal
    assert not [t for t in text if email.search(t)]
    assert not [t for t in text if phone.search(t)]
