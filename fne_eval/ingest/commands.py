"""The ``fne-eval import coop-activites|coop-api|min-lieux|min-subventions`` and ``bundle init`` commands.

Exit statuses, as the other imports: 0 imported; 1 imported with rows in error (left out
and listed), or nothing written because the resulting bundle would be invalid; 2 a
source or the bundle cannot be read (API refused, malformed page, not an export...).
"""
from __future__ import annotations

import datetime as _dt
import os
import sys
from pathlib import Path

from fne_eval.bundle.io import BundleError, os_error_fr, read_bundle_raw, to_text_frame
from fne_eval.bundle.load import load_bundle
from fne_eval.bundle.spec import TABLES
from fne_eval.core.fmt import fmt_int
from fne_eval.ingest.arguments import REAL_KINDS  # noqa: F401 - the kinds cmd_import_real runs
from fne_eval.ingest.common import IngestError
from fne_eval.ingest.coop import match_lieux, read_coop_exports
from fne_eval.ingest.coop_api import DEFAULT_API_URL, TOKEN_ENV, fetch_coop_activities, fetch_coop_lieux, public_url
from fne_eval.ingest.into import init_bundle, typed_tables, write_into
from fne_eval.ingest.mon_inclusion import read_min_lieux, read_min_subventions
from fne_eval.ingest.opendata import write_csv_atomic
from fne_eval.ingest.sniff import check_kind


def _err(message: str) -> None:
    print(f"fne-eval import : {message}", file=sys.stderr)


def _bundle_tables(path) -> tuple:
    """Return ``(raw, tables)``: the bundle read as text (None for the embedded one) and its typed tables.

    Not validated: :func:`fne_eval.ingest.into.write_into` validates what the import writes,
    and is handed this reading (``current``) rather than reading the bundle again.
    """
    try:
        if path is None:
            return None, load_bundle().tables
        raw = read_bundle_raw(path)
        return raw, typed_tables(raw)
    except BundleError as exc:
        raise IngestError(f"bundle illisible : {exc}") from exc


def _print_report(report) -> None:
    for line in report.lines_fr():
        print(line)


def _write_out(out: str, tables: dict) -> list:
    """Write the first table to ``out`` and the others beside it (``<stem>_<table>.csv``), atomically."""
    out = Path(out)
    written = []
    for k, (name, df) in enumerate(tables.items()):
        target = out if k == 0 else out.with_name(f"{out.stem}_{name}{out.suffix or '.csv'}")
        write_csv_atomic(to_text_frame(df, TABLES[name]), target)
        written.append(f"{target} ({name}, {len(df)} ligne{'s' if len(df) > 1 else ''})")
    return written


def _finish(args, report, tables: dict, record: dict, deleted=None, data_as_of=None, sources_text=None,
            current=None) -> int:
    """Write the imported tables (--out or --into) and return the exit status."""
    _print_report(report)
    status = 1 if report.errors else 0
    if args.out:
        try:
            written = _write_out(args.out, tables)
        except OSError as exc:
            _err(f"écriture impossible vers {args.out} : {os_error_fr(exc)}")
            return 2
        for w in written:
            print(f"Écrit : {w}")
        return status
    mode = args.mode or ("append" if getattr(args, "since", None) and args.kind == "coop-api" else "replace")
    record = {**record, "sources": report.sources}
    res = write_into(args.into, tables, mode, record, deleted=deleted, data_as_of=data_as_of,
                     sources_text=sources_text, current=current)
    for n in res.notes:
        print(n)
    if not res.written:
        print(f"Rien n'a été écrit dans {args.into} : le bundle obtenu serait invalide "
              f"({len(res.errors)} erreur(s)) :", file=sys.stderr)
        for e in res.errors[:50]:
            print("  " + e["message"], file=sys.stderr)
        return 1

    rows = ", ".join(f"{n} {fmt_int(c)} ligne{'s' if c > 1 else ''}" for n, c in res.rows.items())
    print(f"Bundle mis à jour ({mode}) : {args.into} — {rows}.")
    return status


def _check_target(args) -> bool:
    if bool(args.out) == bool(args.into):
        _err("indiquer soit --out FICHIER.csv, soit --into DOSSIER_DE_BUNDLE")
        return False
    if args.mode and not args.into:
        _err("--mode ne s'emploie qu'avec --into")
        return False
    return True


def cmd_import_real(args) -> int:
    """Run one of the :data:`REAL_KINDS` imports."""
    if not _check_target(args):
        return 2
    paths = list(args.path or [])
    if args.kind == "coop-api":
        if paths:
            _err("coop-api ne lit pas de fichier (données lues depuis l'API de La Coop)")
            return 2
    elif not paths or (args.kind != "coop-activites" and len(paths) != 1):
        _err(f"{args.kind} : " + ("un fichier attendu" if args.kind != "coop-activites" else
                                  "au moins un export .xlsx attendu"))
        return 2
    try:
        if args.kind != "coop-api":
            for path in paths:  # a file recognised as another kind: said before anything is read
                check_kind(args.kind, path, strict=False)
        return {"coop-activites": _coop_activites, "coop-api": _coop_api, "min-lieux": _min_lieux,
                "min-subventions": _min_subventions}[args.kind](args, paths)
    except IngestError as exc:
        _err(str(exc))
        return 2


def _coop_activites(args, paths) -> int:
    current = _bundle_tables(args.into)
    tables = current[1]
    result = read_coop_exports(paths, territories=tables["territories"])
    activities, n_matched = match_lieux(result.activities, result.places, tables.get("lieux"))
    if n_matched:
        result.report.count("Activités rattachées à un lieu du bundle (nom et commune identiques)", n_matched)
    dates = [s["export_date"] for s in result.report.sources if s.get("export_date")]
    as_of = max(dates) if dates else (activities["date"].max().date().isoformat() if len(activities) else None)
    texts = []
    for s in result.report.sources:
        period = s.get("period") or [None, None]
        texts.append(f"La Coop de la médiation numérique — export « Mes activités » {s['name']}"
                     + (f" du {s['export_date']}" if s.get("export_date") else "")
                     + (f", période {period[0]} – {period[1]}" if any(period) else "")
                     + " : activités et participants, sans données personnelles (noms supprimés, médiateurs "
                       "pseudonymisés)")
    return _finish(args, result.report, {"activities": activities, "participants": result.participants},
                   {"kind": "coop-activites"}, data_as_of=as_of, sources_text=texts, current=current)


def _coop_api(args, paths) -> int:
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        _err(f"variable d'environnement {TOKEN_ENV} absente : y placer le jeton de l'API de La Coop "
             "(client_id:client_secret)")
        return 2
    if args.since:
        try:
            _dt.date.fromisoformat(args.since)
        except ValueError:
            _err(f"--since {args.since!r} : date AAAA-MM-JJ attendue")
            return 2
    url = args.api_url or DEFAULT_API_URL
    current = _bundle_tables(args.into)
    tables = current[1]
    result = fetch_coop_activities(url, token, departement=args.departement, since=args.since,
                                   territories=tables["territories"])
    lieux = fetch_coop_lieux(url, token, departement=args.departement, territories=tables["territories"],
                             report=result.report)
    activities = result.activities.copy()
    known = set(lieux["id"].dropna()) | set(tables["lieux"]["id"].dropna() if args.into else [])
    lieu = activities["activity_id"].map(result.structure_ids)
    ok = lieu.isin(known).to_numpy(dtype=bool)
    activities.loc[ok, "lieu_id"] = lieu[ok]
    result.report.count("Activités rattachées à un lieu (structure présente dans les lieux)", int(ok.sum()))
    out = {"activities": activities, "participants": result.participants, "lieux": lieux}
    text = (f"La Coop de la médiation numérique — API v1 ({public_url(url)}), /activites et /lieux-activite, "
            f"département {args.departement}" + (f", activités depuis le {args.since}" if args.since else "")
            + f", lu le {_dt.date.today().isoformat()} : sans données personnelles")
    return _finish(args, result.report, out, {"kind": "coop-api"}, deleted={"activities": result.deleted_ids},
                   data_as_of=_dt.date.today().isoformat(), sources_text=[text], current=current)


def _min_lieux(args, paths) -> int:
    current = _bundle_tables(args.into)
    tables = current[1]
    lieux, report = read_min_lieux(paths[0], territories=tables["territories"], date_maj=args.date)
    return _finish(args, report, {"lieux": lieux}, {"kind": "min-lieux"},
                   sources_text=[f"Mon Inclusion Numérique — export « Lieux d'inclusion » {Path(paths[0]).name}"],
                   current=current)


def _min_subventions(args, paths) -> int:
    current = _bundle_tables(args.into)
    tables = current[1]
    out, report = read_min_subventions(paths[0], tables["actions"], tables["budget_lines"],
                                       departement=args.departement, date=args.date)
    return _finish(args, report, {"budget_transactions": out}, {"kind": "min-subventions"},
                   sources_text=[f"Mon Inclusion Numérique — demandes de subvention FNE {Path(paths[0]).name}"],
                   current=current)


def cmd_bundle(args) -> int:
    """Run ``fne-eval bundle init OUT``: exit 0 written, 2 refused (existing folder...)."""
    try:
        out = init_bundle(args.out, force=args.force)
    except (IngestError, OSError) as exc:
        print(f"fne-eval bundle init : {exc}", file=sys.stderr)
        return 2
    print(f"Bundle créé : {out} (référentiel et feuille de route ; tables de suivi vides). "
          f"Importer ensuite les données : fne-eval import coop-activites EXPORT.xlsx --into {out}")
    return 0
