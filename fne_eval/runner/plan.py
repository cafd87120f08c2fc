"""Run plans: which notebooks run for which territories, axes and period.

A run plan is a YAML file (``params/*.yaml``) validated by pydantic: unknown or missing
keys are errors. Example::

    name: copil-2025
    title: "Dossier COPIL 2025"
    defaults: {year: 2025, threshold: 5}
    reports:
      - notebook: impact                                # notebooks/impact.ipynb
        territories: {levels: [departement, epci]}      # generated from the bundle
        axes: [all, "1", "2", "3", "4"]
      - notebook: budget
      - notebook: revue_annuelle

:func:`load_plan` reads and validates the file; :func:`expand_plan` turns it into
:class:`PlanEntry` objects, each with a stable, path-safe ``id`` (``impact-200054807-axe-2``)
and the literal parameters papermill will inject. Every entry is checked against the
notebook's declared parameters and against the bundle (territory codes at an allowed level,
axis codes) before anything runs; every error names the plan file, the entry and the key.
"""
from __future__ import annotations

import ast
import datetime as dt
import logging
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal, Optional, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr
from pydantic import ValidationError, field_validator

from fne_eval.bundle.spec import LEVELS
from fne_eval.core.paths import NOTEBOOKS_DIR

#: A plan name, notebook name or entry id: lower-case letters, digits, ``-`` / ``_``.
SAFE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,79}$")
#: An entry id: only ``[a-z0-9-]``, no leading, trailing or doubled hyphen.
SAFE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: Characters refused in any string parameter value (paths, shell, control characters).
UNSAFE_VALUE = re.compile(r"(\.\.|[/\\;|&$`<>\"'*?!{}\[\]~#%\x00-\x1f\x7f])")
#: Levels a territory parameter may name when the plan does not say.
DEFAULT_LEVELS = ("departement", "epci")
#: Parameters set by the runner, never by a plan.
RUNNER_PARAMETERS = ("bundle",)
#: Axis value meaning "every axis".
ALL_AXES = "all"
#: The lowest disclosure threshold a plan may set without a documented override.
MIN_THRESHOLD = 5
#: The lowest threshold even an override may set (1 would publish single people).
OVERRIDE_FLOOR = 2
#: A plan's YAML may expand to at most this many nodes (aliases counted as many times as used).
MAX_YAML_NODES = 20000
#: Largest plan file read (a plan is a few hundred bytes).
MAX_PLAN_BYTES = 1024 ** 2
#: Longest value quoted in an error message.
MAX_QUOTED = 120

Scalar = Union[StrictBool, StrictInt, StrictFloat, StrictStr]


class PlanError(Exception):
    """A run plan that cannot run; ``errors`` lists every problem found (French/English text)."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TerritorySelector(_Strict):
    """Territories an entry fans out over: listed codes, or every territory of some levels."""

    levels: list[Literal[LEVELS]] = Field(default_factory=lambda: list(DEFAULT_LEVELS), min_length=1)
    codes: Optional[list[StrictStr]] = None
    scope: Literal["in_scope", "all"] = "in_scope"


class ReportSpec(_Strict):
    """One ``reports:`` item of a plan."""

    notebook: StrictStr
    id: Optional[StrictStr] = None
    territories: Optional[TerritorySelector] = None
    axes: Optional[list[StrictStr]] = None
    parameters: dict[str, Scalar] = Field(default_factory=dict)

    @field_validator("axes", mode="before")
    @classmethod
    def _axes_as_text(cls, v):
        # YAML reads an unquoted 2 as a number; an axis code is one digit, so no code is lost.
        if isinstance(v, list):
            return [str(a) if isinstance(a, int) and not isinstance(a, bool) and 0 <= a <= 9 else a for a in v]
        return v


class ThresholdOverride(_Strict):
    """A documented decision to publish counts below :data:`MIN_THRESHOLD`."""

    threshold: StrictInt
    reason: StrictStr = Field(min_length=20)
    decided_by: StrictStr = Field(min_length=2)
    date: StrictStr


class PlanModel(_Strict):
    """The whole plan file."""

    name: StrictStr
    title: StrictStr
    description: Optional[StrictStr] = None
    notebooks_dir: Optional[StrictStr] = None
    defaults: dict[str, Scalar] = Field(default_factory=dict)
    threshold_override: Optional[ThresholdOverride] = None
    reports: list[ReportSpec] = Field(min_length=1)


@dataclass
class RunPlan:
    """A validated plan file: the model, where it was read from, and its text."""

    model: PlanModel
    path: str
    text: str

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def title(self) -> str:
        return self.model.title

    @property
    def notebooks_dir(self) -> Path:
        """Return the folder the plan's notebook names are resolved in."""
        if self.model.notebooks_dir is None:
            return NOTEBOOKS_DIR
        return Path(self.path).resolve().parent / self.model.notebooks_dir


@dataclass
class PlanEntry:
    """One notebook execution: a stable id, the notebook and its literal parameters."""

    id: str
    notebook: str
    notebook_path: str
    parameters: dict = field(default_factory=dict)
    report_index: int = 0

    def to_dict(self) -> dict:
        """Return the entry as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class NotebookParameter:
    """A parameter declared in a notebook's ``parameters`` cell."""

    name: str
    type_name: str  # 'str' | 'int' | 'float' | 'bool' | 'any'
    default: object = None
    required: bool = False
    help: str = ""


# --------------------------------------------------------------------------- loading

def _loc(loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _entry_label(raw: dict, loc) -> str:
    """Return 'reports[2] (notebook impact)' for a location inside the reports list."""
    if len(loc) >= 2 and loc[0] == "reports" and isinstance(loc[1], int):
        label = f"reports[{loc[1]}]"
        try:
            nb = raw["reports"][loc[1]].get("notebook")
        except (KeyError, IndexError, TypeError, AttributeError):
            nb = None
        return f"{label} (notebook {nb})" if nb else label
    return "plan"


_SCALAR_TAGS = ("bool", "int", "float", "str")


def _quote(value) -> str:
    """Return ``repr(value)`` cut to :data:`MAX_QUOTED` characters (an error never echoes a huge value)."""
    text = repr(value)
    return text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED] + f"… ({len(text)} caractères)"


def _check_yaml_graph(node, path) -> list:
    """Return errors of a composed YAML document: too many nodes once aliases expand, duplicated keys.

    The node graph shares aliased nodes, so measuring it costs its size, not its expansion
    (a few hundred bytes of aliases can stand for millions of nodes: « billion laughs »).
    """
    errors, sizes, stack_seen = [], {}, set()

    def size(n) -> int:
        key = id(n)
        if key in sizes:
            return sizes[key]
        if key in stack_seen:  # a recursive alias: infinite
            return MAX_YAML_NODES + 1
        stack_seen.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            for child in n.value:
                total += size(child)
                if total > MAX_YAML_NODES:
                    break
        elif isinstance(n, yaml.MappingNode):
            seen = {}
            for k, v in n.value:
                if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge":
                    if k.value in seen:
                        errors.append(f"{path}: ligne {k.start_mark.line + 1}: clé « {k.value} » en double "
                                      f"(déjà à la ligne {seen[k.value] + 1}) ; une seule valeur doit la donner")
                    else:
                        seen[k.value] = k.start_mark.line
                total += size(k) + size(v)
                if total > MAX_YAML_NODES:
                    break
        stack_seen.discard(key)
        sizes[key] = total
        return total

    if size(node) > MAX_YAML_NODES:
        errors.insert(0, f"{path}: plan refusé : une fois ses alias YAML (*nom) développés, il compterait plus de "
                         f"{MAX_YAML_NODES} éléments ; un plan n'en a besoin que de quelques dizaines")
    return errors


def _safe_yaml(text: str, path) -> object:
    """Parse a plan's YAML: safe types only, bounded alias expansion, duplicated keys refused."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        errors = _check_yaml_graph(node, path)
        if errors:
            raise PlanError(errors)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_plan(path: Union[str, Path]) -> RunPlan:
    """Read a run plan YAML file and validate its shape.

    Parameters
    ----------
    path : str or Path
        The plan file.

    Returns
    -------
    RunPlan

    Raises
    ------
    PlanError
        Unreadable YAML, unknown or missing key, wrong type, unsafe name; each message
        names the file, the entry and the key.
    """
    path = Path(path).expanduser()
    try:
        if path.is_file() and path.stat().st_size > MAX_PLAN_BYTES:
            raise PlanError([f"{path}: plan refusé : {path.stat().st_size} octets, un plan en fait au plus "
                             f"{MAX_PLAN_BYTES}"])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PlanError([f"{path}: plan illisible : {exc}"]) from exc
    try:
        raw = _safe_yaml(text, path)
    except yaml.YAMLError as exc:
        raise PlanError([f"{path}: YAML invalide : {exc}"]) from exc
    except RecursionError as exc:
        raise PlanError([f"{path}: YAML trop imbriqué"]) from exc
    if not isinstance(raw, dict):
        raise PlanError([f"{path}: le plan doit être un dictionnaire YAML (name, title, reports...)"])
    try:
        model = PlanModel.model_validate(raw)
    except ValidationError as exc:
        errors, seen_scalar = [], set()
        for err in exc.errors():
            loc = err["loc"]
            if loc and loc[-1] in _SCALAR_TAGS:
                # one message per parameter value, not one per member of the Scalar union
                loc = loc[:-1]
                if loc in seen_scalar:
                    continue
                seen_scalar.add(loc)
                errors.append(f"{path}: {_entry_label(raw, loc)}: clé '{_loc(loc)}': valeur simple attendue "
                              f"(texte, nombre entier ou décimal, booléen), reçu {_quote(err.get('input'))}")
                continue
            key = _loc(loc)
            if err["type"] == "extra_forbidden":
                msg = "clé inconnue"
            elif err["type"] == "missing":
                msg = "clé obligatoire manquante"
            else:
                msg = f"{err['msg']} (valeur {_quote(err.get('input'))})"
            errors.append(f"{path}: {_entry_label(raw, loc)}: clé '{key}': {msg}")
        raise PlanError(errors) from None
    errors = []
    if not SAFE_NAME.match(model.name):
        errors.append(f"{path}: plan: clé 'name': {model.name!r} doit ne contenir que [a-z0-9_-]")
    nd = model.notebooks_dir
    if nd is not None and (Path(nd).is_absolute() or ".." in Path(nd).parts):
        errors.append(f"{path}: plan: clé 'notebooks_dir': {nd!r} doit être un chemin relatif sans '..'")
    for i, rep in enumerate(model.reports):
        if not SAFE_NAME.match(rep.notebook):
            errors.append(f"{path}: reports[{i}]: clé 'notebook': {rep.notebook!r} doit être un nom de "
                          "notebook de notebooks/ sans extension ([a-z0-9_-])")
        if rep.id is not None and not SAFE_ID.match(rep.id):
            errors.append(f"{path}: reports[{i}]: clé 'id': {rep.id!r} doit ne contenir que [a-z0-9-]")
    errors.extend(_check_thresholds(model, path))
    if errors:
        raise PlanError(errors)
    ov = model.threshold_override
    if ov is not None:
        logging.getLogger("fne_eval.plan").warning(
            "%s : seuil de diffusion abaissé à %d par dérogation (%s, %s) : %s",
            path, ov.threshold, ov.decided_by, ov.date, ov.reason)
    return RunPlan(model=model, path=str(path), text=text)


def _check_thresholds(model: PlanModel, path) -> list:
    """Return errors for a disclosure threshold below the floor without a documented override.

    A ``threshold`` under :data:`MIN_THRESHOLD` (5) publishes counts of 1 to 4 people. It is
    accepted only with a ``threshold_override`` block giving that exact value, a reason
    (20 characters at least), who decided and when; the override is written to the log and
    to the run's manifest. No override goes below :data:`OVERRIDE_FLOOR`.
    """
    errors = []
    ov = model.threshold_override
    if ov is not None:
        if ov.threshold < OVERRIDE_FLOOR or ov.threshold >= MIN_THRESHOLD:
            errors.append(f"{path}: plan: clé 'threshold_override.threshold': {ov.threshold} refusé ; une dérogation "
                          f"fixe un seuil entre {OVERRIDE_FLOOR} et {MIN_THRESHOLD - 1}")
        try:
            dt.date.fromisoformat(ov.date)
        except ValueError:
            errors.append(f"{path}: plan: clé 'threshold_override.date': {_quote(ov.date)} n'est pas une date "
                          "AAAA-MM-JJ")
    places = [("defaults", model.defaults)] + [(f"reports[{i}].parameters", r.parameters)
                                               for i, r in enumerate(model.reports)]
    for where, params in places:
        if "threshold" not in params:
            continue
        v = params["threshold"]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
            continue  # the notebook's type check names it
        if v >= MIN_THRESHOLD:
            continue
        if ov is not None and v == ov.threshold:
            continue
        errors.append(f"{path}: {where}: clé 'threshold': {v!r} refusé ; le seuil de diffusion est d'au moins "
                      f"{MIN_THRESHOLD} personnes. Pour l'abaisser, une dérogation documentée est nécessaire : "
                      "threshold_override: {threshold: N, reason: \"…\", decided_by: \"…\", date: AAAA-MM-JJ}")
    return errors


# --------------------------------------------------------------------------- notebooks

def _literal_type(value) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    return "any"


def notebook_parameters(path: Union[str, Path]) -> dict:
    """Return the parameters a notebook declares in its ``parameters``-tagged cell.

    The cell is parsed with :mod:`ast` (literals only): ``year: int = 2025  # année`` gives
    a ``NotebookParameter('year', 'int', 2025, False, 'année')``; ``year: int`` without a
    value is a required parameter. papermill's own inspector
    (:func:`papermill.inspect_notebook`) is used when the cell is not plain Python; it
    cannot see required parameters.

    Raises
    ------
    PlanError
        The notebook does not exist or has no ``parameters`` cell.
    """
    import nbformat  # lazy: nbformat (~0.3 s), notebook files only

    path = Path(path)
    if not path.is_file():
        raise PlanError([f"{path}: notebook introuvable"])
    nb = nbformat.read(str(path), as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if not cells:
        raise PlanError([f"{path}: pas de cellule étiquetée 'parameters'"])
    source = cells[0].source
    lines = source.splitlines()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        import papermill  # lazy: papermill (~1 s), notebook execution only

        out = {}
        for name, p in papermill.inspect_notebook(str(path)).items():
            t = p.get("inferred_type_name") or "None"
            out[name] = NotebookParameter(name, t if t in ("str", "int", "float", "bool") else "any",
                                          None, False, p.get("help") or "")
        return out
    out = {}
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
            ann = node.annotation.id if isinstance(node.annotation, ast.Name) else "any"
            type_name = ann if ann in ("str", "int", "float", "bool") else "any"
            value_node = node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, type_name, value_node = node.targets[0].id, None, node.value
        else:
            continue
        line = lines[node.lineno - 1] if node.lineno - 1 < len(lines) else ""
        help_ = line.split("#", 1)[1].strip() if "#" in line else ""
        if value_node is None:
            out[name] = NotebookParameter(name, type_name or "any", None, True, help_)
            continue
        try:
            default = ast.literal_eval(value_node)
        except ValueError:
            default = None
        out[name] = NotebookParameter(name, type_name or _literal_type(default), default, False, help_)
    return out


def _type_ok(value, type_name: str) -> bool:
    if type_name == "any":
        return True
    if type_name == "bool":
        return isinstance(value, bool)
    if type_name == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if type_name == "str":
        return isinstance(value, str)
    return False


# --------------------------------------------------------------------------- expansion

def slug(value: str) -> str:
    """Return ``value`` as an id fragment: lower case, ``[a-z0-9-]`` only."""
    s = re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-")
    return s or "x"


def _select_territories(sel: TerritorySelector, territories) -> list:
    """Return the codes a selector names, in the bundle's order (codes are checked later)."""
    if sel.codes is not None:
        return list(sel.codes)
    mask = territories["level"].isin(sel.levels)
    if sel.scope == "in_scope" and "in_scope" in territories.columns:
        mask &= territories["in_scope"].fillna(False).astype(bool)
    rows = territories[mask]
    order = {lvl: i for i, lvl in enumerate(LEVELS)}
    rows = rows.assign(_lvl=rows["level"].map(order)).sort_values(["_lvl", "territory_code"], kind="stable")
    return [str(c) for c in rows["territory_code"]]


def expand_plan(plan: RunPlan, bundle, notebooks_dir: Optional[Union[str, Path]] = None) -> list:
    """Expand a plan into its entries and check each one before anything runs.

    Parameters
    ----------
    plan : RunPlan
        From :func:`load_plan`.
    bundle : fne_eval.bundle.Bundle
        The bundle the run uses: territory lists are generated from its ``territories``
        table, territory and axis codes are checked against it.
    notebooks_dir : str or Path, optional
        Where notebook names are resolved (default: the plan's ``notebooks_dir`` or
        ``notebooks/``).

    Returns
    -------
    list of PlanEntry
        In plan order; for a fanned-out report, territories (in the bundle's order) then axes.

    Raises
    ------
    PlanError
        Listing every problem: unknown parameter key, wrong type, missing required
        parameter, unknown territory or axis, unsafe value, duplicate id.
    """
    ppath = plan.path
    nb_dir = Path(notebooks_dir) if notebooks_dir is not None else plan.notebooks_dir
    territories = bundle["territories"]
    levels_of = {}
    for code, level in zip(territories["territory_code"].astype(str), territories["level"].astype(str)):
        levels_of.setdefault(code, set()).add(level)
    axes_df = bundle["axes"]
    axis_codes = [str(a) for a in axes_df["axis_code"]] if len(axes_df) else []
    errors, entries, seen = [], [], {}
    declared_cache = {}
    for i, rep in enumerate(plan.model.reports):
        where = f"{ppath}: reports[{i}] (notebook {rep.notebook})"
        nb_path = nb_dir / f"{rep.notebook}.ipynb"
        if nb_path not in declared_cache:
            try:
                declared_cache[nb_path] = notebook_parameters(nb_path)
            except PlanError as exc:
                declared_cache[nb_path] = None
                errors.extend(f"{where}: clé 'notebook': {e}" for e in exc.errors)
        declared = declared_cache[nb_path]
        if declared is None:
            continue
        base = dict(plan.model.defaults)
        base.update(rep.parameters)
        # Plan defaults apply only to what the notebook declares; entry parameters must all exist.
        base = {k: v for k, v in base.items() if k in rep.parameters or k in declared}
        for key in rep.parameters:
            if key not in declared:
                errors.append(f"{where}: clé 'parameters.{key}': paramètre inconnu du notebook "
                              f"(déclarés : {', '.join(declared) or 'aucun'})")
        for key in base:
            if key in RUNNER_PARAMETERS:
                errors.append(f"{where}: clé '{key}': fixé par la commande (--{key}), pas par le plan")
        allowed_levels = tuple(rep.territories.levels) if rep.territories else DEFAULT_LEVELS
        territory_values = [None]
        if rep.territories is not None:
            if "territory" not in declared:
                errors.append(f"{where}: clé 'territories': le notebook ne déclare pas de paramètre 'territory'")
                continue
            territory_values = _select_territories(rep.territories, territories)
            if not territory_values:
                errors.append(f"{where}: clé 'territories': aucun territoire de niveau "
                              f"{', '.join(allowed_levels)} dans le bundle")
                continue
        axis_values = [None]
        if rep.axes is not None:
            if "axis" not in declared:
                errors.append(f"{where}: clé 'axes': le notebook ne déclare pas de paramètre 'axis'")
                continue
            axis_values = list(rep.axes)
        for terr in territory_values:
            for axis in axis_values:
                params = {}
                if terr is not None:
                    params["territory"] = terr
                if axis is not None:
                    params["axis"] = axis
                params.update((k, v) for k, v in base.items() if k not in params)
                parts = [rep.id or rep.notebook]
                if terr is not None:
                    parts.append(terr)
                if axis is not None:
                    parts.append(f"axe-{axis}")
                entry_id = slug("-".join(parts))
                ewhere = f"{ppath}: reports[{i}] (notebook {rep.notebook}, entrée {entry_id})"
                errors.extend(_check_parameters(ewhere, params, declared, levels_of, allowed_levels, axis_codes))
                if not SAFE_ID.match(entry_id):
                    errors.append(f"{ewhere}: clé 'id': {entry_id!r} n'est pas un identifiant sûr")
                if entry_id in seen:
                    errors.append(f"{ewhere}: clé 'id': identifiant en double (déjà produit par reports[{seen[entry_id]}])")
                seen.setdefault(entry_id, i)
                entries.append(PlanEntry(id=entry_id, notebook=rep.notebook, notebook_path=str(nb_path),
                                         parameters=params, report_index=i))
    known = [d for d in declared_cache.values() if d is not None]
    if known:
        for key in plan.model.defaults:
            if not any(key in d for d in known):
                errors.append(f"{ppath}: plan: clé 'defaults.{key}': aucun notebook du plan ne déclare ce paramètre")
    if errors:
        raise PlanError(errors)
    return entries


def _check_parameters(where, params, declared, levels_of, allowed_levels, axis_codes) -> list:
    errors = []
    for key, value in params.items():
        p = declared.get(key)
        if p is None:
            continue  # reported once per report above
        if not _type_ok(value, p.type_name):
            errors.append(f"{where}: clé '{key}': type {type(value).__name__} au lieu de {p.type_name} "
                          f"(valeur {value!r})")
            continue
        if isinstance(value, str) and UNSAFE_VALUE.search(value):
            errors.append(f"{where}: clé '{key}': valeur {value!r} refusée (chemin, '..' ou caractère spécial)")
            continue
        if key == "territory":
            lv = levels_of.get(value)
            if lv is None:
                errors.append(f"{where}: clé 'territory': territoire {value!r} absent du bundle")
            elif not lv & set(allowed_levels):
                errors.append(f"{where}: clé 'territory': territoire {value!r} de niveau {', '.join(sorted(lv))}, "
                              f"attendu {', '.join(allowed_levels)}")
        if key == "axis" and value != ALL_AXES and value not in axis_codes:
            errors.append(f"{where}: clé 'axis': axe {value!r} absent du bundle "
                          f"(attendu {ALL_AXES!r} ou {', '.join(axis_codes) or 'aucun axe'})")
    for name, p in declared.items():
        if p.required and name not in params and name not in RUNNER_PARAMETERS:
            errors.append(f"{where}: clé '{name}': paramètre obligatoire du notebook manquant")
    return errors


def plan_entries(plan_path: Union[str, Path], bundle, notebooks_dir=None) -> tuple:
    """Load, validate and expand a plan file; return ``(plan, entries)``."""
    plan = load_plan(plan_path)
    return plan, expand_plan(plan, bundle, notebooks_dir=notebooks_dir)


def select_entries(entries: list, only=None, limit: Optional[int] = None) -> list:
    """Return the entries named by ``only`` (ids, in plan order), then the first ``limit``.

    Raises
    ------
    PlanError
        An id of ``only`` that the plan does not produce; a negative limit.
    """
    if only:
        known = {e.id for e in entries}
        unknown = [o for o in only if o not in known]
        if unknown:
            raise PlanError([f"--only : identifiant inconnu {u!r}" for u in unknown])
        wanted = set(only)
        entries = [e for e in entries if e.id in wanted]
    if limit is not None:
        if limit < 0:
            raise PlanError(["--limit doit être positif ou nul"])
        entries = entries[:limit]
    return entries
