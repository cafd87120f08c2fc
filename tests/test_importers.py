"""Tests of fne_eval.importers on the real sample files and on small inline files.

Expected counts come from PROVENANCE.md section 3 (written when the samples were
extracted), not from the importer's own output.
"""
from decimal import Decimal

import pandas as pd
import pytest

from fne_eval.bundle.spec import TABLES
from fne_eval.importers import (
    ImportReport, is_personal_column, read_lieux_hubdusud_2023, read_text_csv, resolve_commune,
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
