"""The figures of the speed benchmark computed from a run (``benchmarks/batch.py``): medians per stage
from a manifest's entries, and the charts of a run's HTML reports (all, and distinct images).

Expected values are worked out by hand from the inputs written here; nothing is timed.
"""
from benchmarks.batch import chart_counts, stage_medians


def _run(stages_by_entry, statuses=None):
    statuses = statuses or {}
    return {"entries": {k: {"status": statuses.get(k, "ok"), "duration_s": 1.0, "stages": v}
                        for k, v in stages_by_entry.items()}}


def test_stage_medians_over_successful_entries():
    run = _run({
        "a": {"execute": 4.0, "kernel_start": 0.1, "cells": 3.0, "html": 0.5, "pdf": 2.0},
        "b": {"execute": 6.0, "kernel_start": 0.3, "cells": 4.0, "html": 0.7, "pdf": 1.0},
        "c": {"execute": 10.0, "kernel_start": 5.0, "cells": 9.0, "html": 0.6, "pdf": 3.0},
        "failed": {"execute": 100.0, "cells": 100.0},
    }, statuses={"failed": "failed"})
    m = stage_medians(run)
    assert m["cells"] == 4.0  # median of 3, 4, 9 (the failed entry is left out)
    assert m["execute"] == 6.0 and m["kernel_start"] == 0.3 and m["html"] == 0.6 and m["pdf"] == 2.0
    assert m["kernel_and_papermill"] == 1.0  # execute - cells: 1, 2, 1 → median 1


def test_stage_medians_without_pdf_or_stages():
    m = stage_medians(_run({"a": {"execute": 2.0, "cells": 1.5, "html": 0.2}, "b": {}}))
    assert m == {"cells": 1.5, "html": 0.2, "execute": 2.0, "kernel_and_papermill": 0.5}


def test_chart_counts_counts_identical_images_once(tmp_path):
    (tmp_path / "html").mkdir()
    img = '<img src="data:image/png;base64,{}" alt="x">'
    (tmp_path / "html" / "a.html").write_text(img.format("AAAA") + img.format("BBBB"), encoding="utf-8")
    (tmp_path / "html" / "b.html").write_text(img.format("AAAA") + img.format("CCCC"), encoding="utf-8")
    assert chart_counts({"run_dir": str(tmp_path)}) == {"charts": 4, "distinct_charts": 3}
    assert chart_counts({"run_dir": None}) == {}
