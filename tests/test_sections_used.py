"""Every public section builder is called by a notebook, and the compute benchmark opens what the impact notebook does.

``sections.annex_pointer`` outlived the notebook cell that called it (reports carry the annex
line in their header) and the benchmark still timed it as part of « a report ». The names are
read from the committed notebooks' source cells, not from the code under test.
"""
import json
import re
from pathlib import Path

from fne_eval.report import sections

ROOT = Path(__file__).resolve().parents[1]


def _called(notebook: str) -> list:
    nb = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text(encoding="utf-8"))
    src = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    return re.findall(r"sections\.([a-z_]+)\(", src)


def test_benchmark_sections_are_the_impact_notebook_s():
    from benchmarks.report_compute import SECTIONS

    assert list(SECTIONS) == _called("impact")


def test_no_section_builder_without_a_notebook():
    called = {name for nb in ("impact", "budget", "revue_annuelle", "annexe") for name in _called(nb)}
    builders = {name for name in ("annex_pointer", "context", "offer", "activity", "results", "impact_estimate",
                                  "budget_summary", "budget_by", "budget_pace", "training_fund")
                if callable(getattr(sections, name, None))}
    assert builders <= called, builders - called
