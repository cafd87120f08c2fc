"""``fne-eval run``: arguments in, text and exit status out (``fne-eval plan`` is :mod:`fne_eval.cli.plan`)."""
from __future__ import annotations

import sys

from pathlib import Path

from fne_eval.cli.french import translate_os_text
from fne_eval.runner.execute import run_plan


def _err(msg: str) -> None:
    print(translate_os_text(msg), file=sys.stderr)


def cmd_run(args) -> int:
    """Run a plan; exit 0 all ok, 1 some entries failed, 2 nothing ran."""
    outcome = run_plan(
        args.plan, bundle=args.bundle, out=args.out, jobs=args.jobs, only=args.only, limit=args.limit,
        formats=args.to, renderer=args.renderer, executor=args.executor, scheduler=args.scheduler,
        timeout=args.timeout, progress=not args.no_progress,
    )
    if outcome.run_dir is None:
        for i, e in enumerate(outcome.errors):
            _err(f"fne-eval run : {e}" if i == 0 else f"  - {e}")
        return outcome.exit_code
    ok = sum(r.status == "ok" for r in outcome.results)
    failed = outcome.failed
    print(f"{ok} rapport(s) réussi(s), {len(failed)} en échec sur {len(outcome.results)}.")
    if failed:
        print("Échecs :")
        for r in failed:
            print(f"  - {r.id} : {r.error}")
    run_dir = Path(outcome.run_dir).resolve()
    print(f"Ouvrir : {run_dir / 'index.html'}")
    print(f"Toutes les exécutions : {run_dir.parent / 'index.html'}")
    return outcome.exit_code
