"""Helpers shared by the importers of real monitoring data.

- the pseudonymisation key and :func:`pseudonym` (HMAC-SHA256): names and external ids of
  people never enter a bundle, only keys that cannot be reversed without a secret kept
  outside it;
- :func:`norm_label` to compare export labels whatever their apostrophes and spaces;
- :class:`Problem` and :class:`IngestReport`: located French messages and counts.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import os
import re
import secrets
import stat
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

from fne_eval.core.fmt import fmt_int

#: Environment variable naming the pseudonymisation key file.
KEY_FILE_ENV = "FNE_EVAL_KEY_FILE"
#: Default key file (created 0600 on first use).
DEFAULT_KEY_FILE = Path("~/.config/fne-eval/pseudonym.key")


class IngestError(Exception):
    """A source that cannot be read at all (exit status 2); the message is French and located."""


# --------------------------------------------------------------------------- pseudonyms
def key_path() -> Path:
    """Return the path of the pseudonymisation key file (``$FNE_EVAL_KEY_FILE`` or the default)."""
    env = os.environ.get(KEY_FILE_ENV, "").strip()
    return Path(env).expanduser() if env else DEFAULT_KEY_FILE.expanduser()


def pseudonym_key(path: Optional[Union[str, Path]] = None, create: bool = True) -> bytes:
    """Return the secret key of the pseudonyms, creating it (0600) on first use.

    The key is 32 random bytes written as hex. It must stay outside every bundle and be
    the same for every import of a user, so that a médiateur keeps the same key across
    imports. Losing it only means that later imports give new keys.

    Parameters
    ----------
    path : str or Path, optional
        Key file; default :func:`key_path`.
    create : bool, default True
        Create the file when it does not exist.

    Raises
    ------
    IngestError
        The file cannot be read or created, or does not hold a key.
    """
    p = Path(path).expanduser() if path is not None else key_path()
    if not p.exists():
        if not create:
            raise IngestError(f"{p} : clé de pseudonymisation absente")
        try:
            p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # created meanwhile by another import
            return pseudonym_key(p, create=False)
        except OSError as exc:
            raise IngestError(f"{p} : impossible de créer la clé de pseudonymisation ({exc.strerror})") from exc
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    try:
        text = p.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError(f"{p} : clé de pseudonymisation illisible ({exc})") from exc
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise IngestError(f"{p} : ce fichier ne contient pas une clé de pseudonymisation (64 caractères "
                          "hexadécimaux attendus)")
    mode = stat.S_IMODE(p.stat().st_mode)
    if mode & 0o077:
        try:
            os.chmod(p, 0o600)  # a key readable by others is tightened, never used as it is
        except OSError as exc:
            raise IngestError(f"{p} : la clé est lisible par d'autres utilisateurs (droits {oct(mode)}) ; "
                              "restreindre ses droits (chmod 600)") from exc
    return bytes.fromhex(text)


def norm_person(name: str) -> str:
    """Return a person's name normalised for pseudonymisation.

    Accents, case, punctuation and word order are ignored, so that « DUPONT Jeanne »,
    « Jeanne Dupont » and « jeanne  dupont » give the same key (early exports swapped the
    first and last names in their header block).
    """
    s = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode().casefold()
    words = re.sub(r"[^a-z0-9]+", " ", s).split()
    return " ".join(sorted(words))


def pseudonym(key: bytes, namespace: str, value: str, prefix: str = "", length: int = 16) -> str:
    """Return a stable pseudonymous key: ``prefix`` + HMAC-SHA256(key, namespace:value) in hex.

    Returns "" for an empty value.

    >>> pseudonym(b"k" * 32, "mediateur", "jeanne dupont", "med-")
    'med-4c018311ce8a45f1'
    """
    if not value:
        return ""
    digest = hmac.new(key, f"{namespace}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()
    return prefix + digest[:length]


# --------------------------------------------------------------------------- labels
def norm_label(text) -> str:
    """Return a label normalised for comparison: apostrophes, spaces and case ignored.

    >>> norm_label("Canaux d’accompagnement ") == norm_label("canaux d'accompagnement")
    True
    """
    s = "" if text is None else str(text)
    s = s.replace("\u2019", "'").replace("\u02bc", "'").replace("\u00a0", " ").replace("\u202f", " ")
    s = s.replace("\u2013", "-").replace("\u2014", "-")
    return " ".join(s.split()).casefold()


def sha256_file(path: Union[str, Path]) -> str:
    """Return the SHA-256 of a file's bytes, in hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def utc_now() -> str:
    """Return the current UTC time as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def departement_of(code: str) -> str:
    """Return the département of an INSEE commune code or a postcode (``"13"``, ``"2A"``, ``"971"``)."""
    c = str(code or "").strip().upper()
    if not c:
        return ""
    if c[:2] in ("97", "98") and len(c) == 5:
        return c[:3]
    return c[:2]


# --------------------------------------------------------------------------- report
@dataclass
class Problem:
    """One located problem of a source (a row left out, a value not understood...)."""

    source: str  # file name (or API endpoint)
    message: str  # what was expected, in French
    sheet: str = ""
    row: Optional[int] = None
    column: str = ""
    value: str = ""
    row_label: str = "ligne"  # "élément" for the items of an API response

    def text(self) -> str:
        """Return the problem as one French line naming its place."""
        where = self.source
        if self.sheet:
            where += f", feuille « {self.sheet} »"
        if self.row is not None:
            where += f", {self.row_label} {self.row}"
        if self.column:
            where += f", colonne « {self.column} »"
        if self.value != "":
            v = self.value if len(self.value) <= 80 else self.value[:77] + "…"
            where += f", valeur « {v} »"
        return f"{where} : {self.message}"

    def to_dict(self) -> dict:
        """Return the problem as plain data."""
        return {"source": self.source, "sheet": self.sheet, "row": self.row, "column": self.column,
                "value": self.value, "message": self.message}


@dataclass
class IngestReport:
    """What an import read, kept, left out and found wrong, with the sources' provenance.

    Attributes
    ----------
    kind : str
        What was imported (``coop-activites``, ``coop-api``, ``min-lieux``...).
    counts : Counter
        Named counts (French labels → number), printed in insertion order.
    errors : list of Problem
        Rows left out because they break the format (exit status 1).
    warnings : list of Problem
        Remarks that did not stop a row.
    notes : list of str
        Other remarks, in French.
    sources : list of dict
        Provenance of each source read (file name, SHA-256, export date, filters...).
    """

    kind: str = ""
    counts: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    sources: list = field(default_factory=list)

    def error(self, source: str, message: str, **where) -> None:
        """Record a row left out (see :class:`Problem` for ``where``)."""
        self.errors.append(Problem(source, message, **_clean(where)))

    def warn(self, source: str, message: str, **where) -> None:
        """Record a remark about a row that was kept."""
        self.warnings.append(Problem(source, message, **_clean(where)))

    def count(self, label: str, n: int = 1) -> None:
        """Add ``n`` to the count named ``label`` (French)."""
        self.counts[label] += int(n)

    def lines_fr(self, max_problems: int = 50) -> list:
        """Return the report as French lines."""
        out = []
        for label, n in self.counts.items():
            out.append(f"{label} : {fmt_int(n)}")
        out.extend(self.notes)
        for title, items in (("Erreurs (lignes écartées)", self.errors), ("Avertissements", self.warnings)):
            if items:
                out.append(f"{title} : {fmt_int(len(items))}")
                out.extend("  " + p.text() for p in items[:max_problems])
                if len(items) > max_problems:
                    out.append(f"  … et {fmt_int(len(items) - max_problems)} autre(s)")
        return out

    def to_dict(self) -> dict:
        """Return the report as plain JSON-able data."""
        return {"kind": self.kind, "counts": dict(self.counts), "notes": list(self.notes),
                "errors": [p.to_dict() for p in self.errors],
                "warnings": [p.to_dict() for p in self.warnings], "sources": list(self.sources)}


def _clean(where: dict) -> dict:
    out = dict(where)
    if "value" in out:
        v = out["value"]
        out["value"] = "" if v is None else str(v)
    return out
