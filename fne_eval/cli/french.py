"""A French :class:`argparse.ArgumentParser`: usage, section titles, built-in help and errors.

argparse writes its own words through :func:`gettext.gettext` and no French catalogue is
installed anywhere, so ``--help`` and error messages came out in English. Rather than
patching the module's global ``_``, this subclass translates at the points where argparse's
words reach the user: the usage prefix (the formatter), the two section titles, the
``-h``/``--version`` help lines and the error message (matched against argparse's English
templates, Python 3.10–3.13).
"""
from __future__ import annotations

import argparse
import errno as _errno
import re
import sys
import textwrap

# argparse's error templates, in the order tried; each replacement is French.
_ERROR_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^the following arguments are required: (.*)$", re.S), r"arguments obligatoires manquants : \1"),
    (re.compile(r"^unrecognized arguments: (.*)$", re.S), r"arguments non reconnus : \1"),
    (re.compile(r"^invalid choice: (.*?) \(choose from (.*)\)$", re.S), r"choix invalide : \1 (valeurs possibles : \2)"),
    (re.compile(r"^invalid int value: (.*)$", re.S), r"nombre entier attendu, reçu \1"),
    (re.compile(r"^invalid float value: (.*)$", re.S), r"nombre attendu, reçu \1"),
    (re.compile(r"^invalid (\S+) value: (.*)$", re.S), r"valeur invalide (\1) : \2"),
    (re.compile(r"^expected one argument$"), "une valeur attendue"),
    (re.compile(r"^expected at most one argument$"), "au plus une valeur attendue"),
    (re.compile(r"^expected at least one argument$"), "au moins une valeur attendue"),
    (re.compile(r"^expected (\d+) arguments?$"), r"\1 valeur(s) attendue(s)"),
    (re.compile(r"^ambiguous option: (\S+) could match (.*)$", re.S), r"option ambiguë : \1 peut désigner \2"),
    (re.compile(r"^not allowed with argument (.*)$", re.S), r"incompatible avec l'argument \1"),
    (re.compile(r"^one of the arguments (.*) is required$", re.S), r"l'un des arguments \1 est obligatoire"),
    (re.compile(r"^ignored explicit argument (.*)$", re.S), r"valeur ignorée : \1"),
    (re.compile(r"^argument (\S+): (.*)$", re.S), None),  # recursive: « argument X : <message traduit> »
]


def translate_error(message: str) -> str:
    """Return argparse's English error ``message`` in French (unchanged when no template matches)."""
    for pattern, repl in _ERROR_PATTERNS:
        m = pattern.match(message)
        if not m:
            continue
        if repl is None:
            return f"argument {m.group(1)} : {translate_error(m.group(2))}"
        return m.expand(repl)
    return message


_OS_REASONS = {2: "fichier ou dossier introuvable", 13: "permission refusée", 1: "opération non permise",
               28: "plus de place sur le disque", 30: "système de fichiers en lecture seule", 17: "existe déjà",
               20: "n'est pas un dossier", 21: "est un dossier", 39: "dossier non vide", 122: "quota de disque dépassé"}


def os_error_fr(exc: BaseException) -> str:
    """French text of an operating-system error (Python's ``[Errno 2] No such file…`` is English)."""
    reasons = {getattr(_errno, name): text for name, text in (
        ("ENOENT", _OS_REASONS[2]), ("EACCES", _OS_REASONS[13]), ("EPERM", _OS_REASONS[1]),
        ("ENOSPC", _OS_REASONS[28]), ("EROFS", _OS_REASONS[30]), ("EEXIST", _OS_REASONS[17]),
        ("ENOTDIR", _OS_REASONS[20]), ("EISDIR", _OS_REASONS[21]), ("ENOTEMPTY", _OS_REASONS[39]),
        ("EDQUOT", _OS_REASONS[122])) if hasattr(_errno, name)}
    if isinstance(exc, OSError) and exc.errno in reasons:
        return reasons[exc.errno] + (f" ({exc.filename})" if exc.filename else "")
    return translate_os_text(str(exc))


def translate_os_text(text: str) -> str:
    """Replace the ``[Errno N] English reason: 'path'`` a library put in a message by its French reason."""
    def repl(m):
        reason = _OS_REASONS.get(int(m.group(1)))
        if reason is None:
            return m.group(0)
        return reason + (f" ({m.group(3)})" if m.group(3) else "")

    return re.sub(r"\[Errno (\d+)\] ([A-Za-z][A-Za-z -]*[A-Za-z])(?:: '([^'\n]*)')?", repl, text)


class FrenchStderr:
    """Standard error with the operating system's English reasons (``[Errno 2] No such file…``) in French.

    Commands below the CLI layer (imports, plan loading) put ``str(OSError)`` in their
    French messages; :func:`fne_eval.cli.main.main` routes standard error through this
    wrapper for the command's duration.
    """

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(translate_os_text(text) if "[Errno" in text else text)

    def __getattr__(self, name):
        return getattr(self._stream, name)


class FrenchHelpFormatter(argparse.HelpFormatter):
    """« usage : » and « titre : » with the French space before the colon."""

    def add_usage(self, usage, actions, groups, prefix=None):
        if prefix is None:
            prefix = "usage : "
        return super().add_usage(usage, actions, groups, prefix)

    def start_section(self, heading):
        return super().start_section(f"{heading} " if heading else heading)

    # never cut « fne-eval », « coop-api » or « AAAA-MM-JJ » at their hyphen
    def _split_lines(self, text, width):
        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.wrap(text, width, break_on_hyphens=False)

    def _fill_text(self, text, width, indent):
        text = self._whitespace_matcher.sub(" ", text).strip()
        return textwrap.fill(text, width, initial_indent=indent, subsequent_indent=indent,
                             break_on_hyphens=False)


class FrenchArgumentParser(argparse.ArgumentParser):
    """An :class:`argparse.ArgumentParser` whose every word shown to the user is French.

    Subparsers made by ``add_subparsers().add_parser`` are of this class too (argparse
    creates them with ``type(parent)``).
    """

    def __init__(self, *args, add_help: bool = True, formatter_class=FrenchHelpFormatter, **kwargs):
        super().__init__(*args, add_help=False, formatter_class=formatter_class, **kwargs)
        self._positionals.title = "arguments positionnels"
        self._optionals.title = "options"
        if add_help:
            prefix = "-" if "-" in self.prefix_chars else self.prefix_chars[0]
            self.add_argument(prefix + "h", prefix * 2 + "help", action="help", default=argparse.SUPPRESS,
                              help="afficher cette aide et quitter")

    def error(self, message: str):
        """Print the usage and a French error to standard error, and exit with status 2."""
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {translate_error(message)}\n")
