"""Compare the published HTML of two runs of ``fne-eval run`` (a refactoring must not change it).

Usage::

    python tools/compare_html.py BEFORE AFTER [--markup] [--context N]

BEFORE and AFTER are run folders (``<out>/<run-id>/``) or the ``--out`` folders holding
them (the most recent run inside is taken). Every ``*.html`` of the run (its ``index.html``
and ``html/*.html``) is compared by visible text, one line per text block; with ``--markup``
the markup is compared too, after normalising what changes from run to run on its own
(run ids, timestamps, durations, absolute paths, generated element ids). Prints the
differing lines per file and exits 1 when anything differs, 0 otherwise.
"""
from __future__ import annotations

import argparse
import difflib
import hashlib
import re
import sys
from pathlib import Path

from bs4 import BeautifulSoup

RUN_ID = re.compile(r"\b\d{8}-\d{6}-[\w.-]*?-[0-9a-f]{6}\b")
ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?")
CLOCK = re.compile(r"\b\d{1,2}[:h]\d{2}(:\d{2})?\b")
DURATION = re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:s|ms|min)\b")
TODAY_FR = re.compile(r"\b\d{1,2}(?:er)? (?:janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|"
                      r"novembre|décembre) \d{4} à \S+")
GENERATED_ID = re.compile(r'((?:id|href|xlink:href|clip-path|aria-labelledby|for)=["\'](?:url\()?#?)'
                          r'([A-Za-z_-]*?)[0-9a-f]{6,}[^"\')]*')
DATA_URI = re.compile(r"data:([\w/+.-]+);base64,([A-Za-z0-9+/=]+)")


def find_run(folder: Path) -> Path:
    """The run folder itself, or the most recent run inside an ``--out`` folder."""
    if (folder / "html").is_dir():
        return folder
    runs = sorted(p for p in folder.iterdir() if p.is_dir() and (p / "html").is_dir() and not p.name.startswith("."))
    if not runs:
        sys.exit(f"compare_html : aucun dossier d'exécution (avec html/) dans {folder}")
    return runs[-1]


def html_files(run: Path) -> dict[str, Path]:
    return {str(p.relative_to(run)): p for p in sorted(run.rglob("*.html"))}


def normalise(text: str, roots: list[Path]) -> str:
    for root in roots:
        text = text.replace(str(root), "<RUN>").replace(str(root.parent), "<OUT>")
    text = RUN_ID.sub("<RUN-ID>", text)
    text = ISO_TIME.sub("<TIME>", text)
    text = TODAY_FR.sub("<DATE-TIME>", text)
    text = CLOCK.sub("<CLOCK>", text)
    return DURATION.sub("<DURATION>", text)


def visible_lines(html: str, roots: list[Path]) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    lines = (" ".join(chunk.split()) for chunk in soup.get_text("\n").splitlines())
    return [normalise(line, roots) for line in lines if line]


def markup_lines(html: str, roots: list[Path]) -> list[str]:
    html = DATA_URI.sub(lambda m: f"data:{m.group(1)};sha256,{hashlib.sha256(m.group(2).encode()).hexdigest()[:16]}",
                        html)
    html = GENERATED_ID.sub(lambda m: m.group(1) + m.group(2) + "<ID>", html)
    html = re.sub(r">\s*<", ">\n<", html)
    return [normalise(line.strip(), roots) for line in html.splitlines() if line.strip()]


def compare(before: Path, after: Path, markup: bool = False, context: int = 0, out=sys.stdout) -> int:
    """Number of differing lines between the two runs' HTML files (missing files count as one line each)."""
    run_a, run_b = find_run(before), find_run(after)
    roots = [run_a, run_b]
    files_a, files_b = html_files(run_a), html_files(run_b)
    total = 0
    for name in sorted(set(files_a) | set(files_b)):
        if name not in files_a or name not in files_b:
            print(f"== {name} : présent seulement dans {'AVANT' if name in files_a else 'APRÈS'}", file=out)
            total += 1
            continue
        text_a = files_a[name].read_text(encoding="utf-8")
        text_b = files_b[name].read_text(encoding="utf-8")
        views = [("texte", visible_lines)] + ([("balisage", markup_lines)] if markup else [])
        for label, view in views:
            lines_a, lines_b = view(text_a, roots), view(text_b, roots)
            diff = [line for line in difflib.unified_diff(lines_a, lines_b, "avant", "après", n=context, lineterm="")
                    if not line.startswith(("---", "+++"))]
            changed = [line for line in diff if line.startswith(("-", "+"))]
            if changed:
                total += len(changed)
                print(f"== {name} ({label}) : {len(changed)} ligne(s) différente(s)", file=out)
                for line in diff:
                    print("   " + line[:300], file=out)
    print(f"{len(set(files_a) | set(files_b))} fichier(s) HTML comparé(s) : {total} ligne(s) différente(s) "
          f"({run_a.name} → {run_b.name})", file=out)
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="dossier de l'exécution AVANT (ou son --out)")
    parser.add_argument("after", type=Path, help="dossier de l'exécution APRÈS (ou son --out)")
    parser.add_argument("--markup", action="store_true", help="comparer aussi le balisage, normalisé")
    parser.add_argument("--context", type=int, default=0, help="lignes de contexte autour d'une différence")
    args = parser.parse_args(argv)
    return 1 if compare(args.before, args.after, args.markup, args.context) else 0


if __name__ == "__main__":
    sys.exit(main())
