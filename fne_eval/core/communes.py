"""Where a place is: resolve a commune (and Marseille arrondissement) from a postcode, a name, an INSEE code.

The one resolver of the package, used by every importer (:mod:`fne_eval.ingest`) and by the
default bundle's build (:mod:`fne_eval.build`); it reads the commune reference tables
shipped in ``fne_eval/data/reference`` (COG 2026).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

import pandas as pd

from fne_eval.core.paths import REFERENCE_DIR

__all__ = ["Resolution", "resolve_commune"]


class Resolution(NamedTuple):
    """Where a lieu is: its commune, its finest territory and how this was found."""

    commune_code: str  # INSEE code of the commune ("13055" for Marseille); "" if unresolved
    territory_code: str  # commune, or Marseille arrondissement (13201–13216); "" if unresolved
    method: str  # code_insee | code_postal+nom | nom | code_postal | non_resolu (+ details)



def normalize_commune_name(s) -> str:
    s = unicodedata.normalize("NFKD", str(s)).encode("ascii", "ignore").decode().upper()
    s = re.sub(r"[-'’_/.,]", " ", s)
    s = " ".join(s.split())
    s = re.sub(r"^(STE) ", "SAINTE ", s)
    s = re.sub(r"^(ST) ", "SAINT ", s)
    return s.replace(" STE ", " SAINTE ").replace(" ST ", " SAINT ")


@lru_cache(maxsize=1)
def commune_reference() -> dict:
    """Load the commune and arrondissement reference tables once."""
    com = pd.read_csv(REFERENCE_DIR / "communes_13.csv", dtype=str, keep_default_na=False)
    arm = pd.read_csv(REFERENCE_DIR / "arrondissements_marseille.csv", dtype=str, keep_default_na=False)
    by_code, by_cp, by_name = {}, {}, {}
    for r in com.itertuples(index=False):
        by_code[r.code_insee] = r.nom
        by_name.setdefault(normalize_commune_name(r.nom), set()).add(r.code_insee)
        for cp in r.codes_postaux.split(";"):
            by_cp.setdefault(cp.strip(), set()).add(r.code_insee)
    arm_by_cp, arm_by_num, arm_codes = {}, {}, {}
    for r in arm.itertuples(index=False):
        arm_codes[r.code_insee] = r.commune_parent
        arm_by_num[int(r.code_insee[-2:])] = r.code_insee
        for cp in r.codes_postaux.split(";"):
            arm_by_cp[cp.strip()] = r.code_insee
    return {"by_code": by_code, "by_cp": by_cp, "by_name": by_name, "arm_by_cp": arm_by_cp,
            "arm_by_num": arm_by_num, "arm_codes": arm_codes}


_ARM_RE = re.compile(r"(?:^|\s)(\d{1,2})\s*(?:E|ER|EME|IEME)?(?:\s+ARRONDISSEMENT)?(?:\s|$)")


def arrondissement_from_name(name: str) -> str:
    """Return 132xx when the name says which Marseille arrondissement it is, else ""."""
    n = normalize_commune_name(name)
    if not (n.startswith("MARSEILLE") or "ARRONDISSEMENT" in n):
        return ""
    m = _ARM_RE.search(n.replace("MARSEILLE", " "))
    if not m:
        return ""
    return commune_reference()["arm_by_num"].get(int(m.group(1)), "")


def commune_name_matches(name_norm: str, code: str) -> bool:
    ref = normalize_commune_name(commune_reference()["by_code"][code])
    return name_norm == ref or name_norm.startswith(ref + " ")


def resolve_commune(code_postal, name, code_insee=None) -> Resolution:
    """Resolve a lieu's commune and finest territory (Marseille arrondissement) code.

    The one place where a place's commune is resolved, for every importer. Order:

    1. ``code_insee`` when it is a commune or arrondissement code of the reference
       (COG 2026) and does not contradict the name — a value that is in fact a postcode of
       the named commune (e.g. « 13001 » printed for Marseille 1er, which is the INSEE code
       of Aix-en-Provence) is ignored: **a postcode is never used as an INSEE code**;
       a valid code outside the département is kept as is;
    2. postcode + name (the name may carry a suffix such as « Marseille 7 »);
    3. the name alone when unique in the département;
    4. the postcode alone when it belongs to one commune only;
    5. the postcode and the name's first word when it is the first word of exactly one of
       that postcode's communes (« AIX-LA-DURANNE » 13100 → Aix-en-Provence).

    For Marseille (13055) the arrondissement (13201–13216) comes from the postcode
    13001–13016, else from the name (« Marseille 7e », « 7e Arrondissement »); when neither
    tells, the territory is the commune 13055.

    Parameters
    ----------
    code_postal : str
        Postcode as printed (zero-padded to 5 digits).
    name : str
        Commune name as printed.
    code_insee : str, optional
        INSEE code as printed.

    Returns
    -------
    Resolution
        ``(commune_code, territory_code, method)``; codes are "" and method
        ``non_resolu`` when nothing matches.

    Examples
    --------
    >>> resolve_commune("13007", "Marseille")
    Resolution(commune_code='13055', territory_code='13207', method='code_postal+nom')
    >>> resolve_commune("13100", "Saint-Marc-Jaumegarde").territory_code
    '13095'
    """
    ref = commune_reference()
    cp = "" if code_postal is None or pd.isna(code_postal) else str(code_postal).strip()
    if cp.isdigit() and len(cp) < 5:
        cp = cp.zfill(5)
    nm = normalize_commune_name("" if name is None or (not isinstance(name, str) and pd.isna(name)) else name)
    ci = "" if code_insee is None or (not isinstance(code_insee, str) and pd.isna(code_insee)) else str(code_insee).strip()

    def finish(code: str, method: str) -> Resolution:
        if code in ref["arm_codes"]:
            return Resolution(ref["arm_codes"][code], code, method)
        if code == "13055":
            arm = ref["arm_by_cp"].get(cp) or arrondissement_from_name(name or "")
            if arm:
                return Resolution(code, arm, method)
            return Resolution(code, code, method + " (arrondissement inconnu)")
        return Resolution(code, code, method)

    if ci:
        if ci in ref["by_code"] or ci in ref["arm_codes"]:
            commune = ref["arm_codes"].get(ci, ci)
            named = named_commune(nm)
            # a code contradicted by the name is most likely a postcode typed as an INSEE code
            if not (nm and named and named != commune and not commune_name_matches(nm, commune)):
                return finish(ci, "code_insee")
        elif re.fullmatch(r"\d{5}|2[AB]\d{3}", ci) and ci not in ref["by_cp"]:
            return Resolution(ci, ci, "code_insee (hors département)")
    cands = ref["by_cp"].get(cp, set())
    named = sorted(c for c in cands if nm and commune_name_matches(nm, c))
    if len(named) == 1:
        return finish(named[0], "code_postal+nom")
    byname = named_commune(nm)
    if byname:
        return finish(byname, "nom")
    if arrondissement_from_name(name or ""):
        return finish(arrondissement_from_name(name or ""), "nom")
    if len(cands) == 1:
        return finish(next(iter(cands)), "code_postal")
    # a locality of a commune (« AIX-LA-DURANNE »): the name's first word is the first word
    # of exactly one commune of that postcode
    words = nm.split()
    if words and len(words[0]) >= 3 and words[0] not in _COMMON_FIRST_WORDS:
        near = sorted(c for c in cands if normalize_commune_name(ref["by_code"][c]).split()[0] == words[0])
        if len(near) == 1:
            return finish(near[0], "code_postal+nom approché")
    return Resolution("", "", "non_resolu")


_COMMON_FIRST_WORDS = {"SAINT", "SAINTE", "LES", "LA", "LE", "MARSEILLE"}


def named_commune(nm: str) -> str:
    """Return the unique commune whose normalised name is ``nm`` (or a prefix of it), else ""."""
    if not nm:
        return ""
    ref = commune_reference()
    hit = ref["by_name"].get(nm)
    if hit and len(hit) == 1:
        return next(iter(hit))
    starts = {c for n, codes in ref["by_name"].items() if nm.startswith(n + " ") for c in codes}
    if len(starts) == 1:
        return next(iter(starts))
    return ""


