"""Results shared by the reports of a run (fne_eval.bundle.diskcache.shared, issue 14 / issue 9).

What is checked: a report gives the same HTML whether its expensive quantities (indicator
values, the DiD, completeness totals, lieux, exposed communes, quality findings) are computed
(sharing off, or on with an empty cache), read from the cache folder (another process's
results) or from memory; a file planted in the cache folder, or an entry copied under another
key, is never unpickled and the result is recomputed; callers get their own copy.
"""
import pickle

import pandas as pd
import pytest

from fne_eval.bundle import diskcache

CALLS = []


@diskcache.shared
def _rows_of(bundle, table: str, extra=None) -> pd.DataFrame:
    """A shared function of the test: counts its calls, returns a small frame of the bundle."""
    CALLS.append(table)
    t = bundle[table]
    return pd.DataFrame({"table": [table], "rows": [len(t)], "extra": [extra]})


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(diskcache.ENV, str(folder))
    monkeypatch.setenv(diskcache.KEY_ENV, str(tmp_path / "key" / "cache-key"))
    monkeypatch.setenv(diskcache.SHARED_ENV, "on")
    diskcache.clear_shared_memory()
    CALLS.clear()
    for k in diskcache.SHARED_STATS:
        diskcache.SHARED_STATS[k] = 0
    yield folder
    diskcache.clear_shared_memory()


def _entries(folder):
    return sorted((folder / diskcache.SHARED_FOLDER).glob("*" + diskcache.SHARED_SUFFIX))


def test_off_by_default_and_computed_once_when_on(default_bundle, cache, monkeypatch):
    monkeypatch.delenv(diskcache.SHARED_ENV)
    _rows_of(default_bundle, "lieux")
    _rows_of(default_bundle, "lieux")
    assert CALLS == ["lieux", "lieux"] and not _entries(cache)  # library calls do not share by default
    monkeypatch.setenv(diskcache.SHARED_ENV, "on")
    CALLS.clear()
    first = _rows_of(default_bundle, "lieux")
    second = _rows_of(default_bundle, "lieux")
    assert CALLS == ["lieux"] and len(_entries(cache)) == 1
    assert first.equals(second) and first is not second
    first.loc[0, "rows"] = -1  # a caller's change does not reach the next caller
    assert _rows_of(default_bundle, "lieux").loc[0, "rows"] == len(default_bundle["lieux"])
    _rows_of(default_bundle, "lieux", extra=2)  # another argument, another entry
    _rows_of(default_bundle, "activities")
    assert CALLS == ["lieux", "lieux", "activities"] and len(_entries(cache)) == 3


def test_other_process_reads_the_disk_entry(default_bundle, cache):
    _rows_of(default_bundle, "lieux")
    diskcache.clear_shared_memory()  # what a new kernel sees: only the cache folder
    again = _rows_of(default_bundle, "lieux")
    assert CALLS == ["lieux"] and diskcache.SHARED_STATS["disk_hits"] == 1
    assert again["rows"].tolist() == [len(default_bundle["lieux"])]


def test_bundle_without_content_hash_or_changed_shape_is_not_served(default_bundle, cache):
    _rows_of(default_bundle, "lieux")
    changed = default_bundle.copy()
    changed.tables["lieux"] = changed["lieux"].iloc[:3]
    assert _rows_of(changed, "lieux")["rows"].tolist() == [3]  # same files' hash, other shape: recomputed
    changed.hash = ""
    _rows_of(changed, "lieux")
    assert CALLS == ["lieux"] * 3 and diskcache.SHARED_STATS["uncached"] == 1


class _Bomb:
    """Unpickling it would write a marker file: a planted entry must never be unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_planted_entry_is_removed_unread_and_recomputed(default_bundle, cache, tmp_path):
    truth = _rows_of(default_bundle, "lieux")
    (entry,) = _entries(cache)
    marker = tmp_path / "planted-code-ran"
    key = entry.name[:-len(diskcache.SHARED_SUFFIX)]
    payload = pickle.dumps((key, _Bomb(marker)))
    # a planted file in the entry format, with a MAC made without the user's secret key
    entry.write_bytes(diskcache.MAGIC + b"\0" * 32 + payload)
    diskcache.clear_shared_memory()
    got = _rows_of(default_bundle, "lieux")
    assert not marker.exists()
    assert got.equals(truth) and CALLS == ["lieux", "lieux"]  # recomputed, not served
    assert diskcache.SHARED_STATS["rejected"] == 1
    # the recomputed result was written back, sealed: the next kernel reads it
    diskcache.clear_shared_memory()
    _rows_of(default_bundle, "lieux")
    assert CALLS == ["lieux", "lieux"] and diskcache.SHARED_STATS["disk_hits"] == 1


def test_entry_copied_under_another_key_is_recomputed(default_bundle, cache):
    _rows_of(default_bundle, "lieux")
    _rows_of(default_bundle, "activities")
    a, b = _entries(cache)
    b.write_bytes(a.read_bytes())  # a genuine entry of this user, but for another key
    diskcache.clear_shared_memory()
    got = {t: _rows_of(default_bundle, t)["rows"].iloc[0] for t in ("lieux", "activities")}
    assert got == {"lieux": len(default_bundle["lieux"]), "activities": len(default_bundle["activities"])}
    assert diskcache.SHARED_STATS["rejected"] == 1 and len(CALLS) == 3  # one of the two recomputed


def test_folder_argument_given_is_not_shared(default_bundle, cache, tmp_path):
    from fne_eval.evaluate.quality import quality_findings

    quality_findings(default_bundle, rules=["share_above_100"], sources_dir=str(tmp_path))
    assert diskcache.SHARED_STATS["uncached"] == 1 and not _entries(cache)


def _report_html(territory: str, axis: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from fne_eval.report import open_report, sections

    ctx = open_report("", territory, axis, 2025, 5, report="impact")
    parts = [sections.context(ctx), sections.offer(ctx), sections.activity(ctx), sections.results(ctx),
             sections.impact_estimate(ctx)]
    return "".join(p._repr_html_() for p in parts)


def test_report_html_same_cold_warm_and_bypassed(cache, monkeypatch):
    """The département's impact report (all axes): sections' HTML with sharing off, computed
    into an empty cache, read back from the cache folder (a new kernel) and from memory."""
    from fne_eval.bundle import load as bundle_load
    from fne_eval.core import territory
    from fne_eval.store import cache as store_cache

    # as a new kernel: nothing kept in memory by the tests that ran before in this process
    diskcache.clear_shared_memory()
    store_cache.STORE_MEMO.clear()
    bundle_load._load_cached.cache_clear()
    territory._MEMBERSHIP_CACHE.clear()
    territory._PREPARED_CACHE.clear()
    monkeypatch.setenv("FNE_EVAL_FIGURE_CACHE", "off")
    monkeypatch.setenv(diskcache.SHARED_ENV, "off")
    bypassed = _report_html("13", "all")
    assert diskcache.SHARED_STATS["computed"] == 0 and not _entries(cache)
    monkeypatch.setenv(diskcache.SHARED_ENV, "on")
    cold = _report_html("13", "all")
    computed = diskcache.SHARED_STATS["computed"]
    # the impact report's five: indicator values, DiD, completeness totals, lieux, exposed communes
    assert computed >= 5 and len(_entries(cache)) == computed
    diskcache.clear_shared_memory()
    store_cache.STORE_MEMO.clear()
    warm_disk = _report_html("13", "all")
    assert diskcache.SHARED_STATS["computed"] == computed  # nothing computed again
    assert diskcache.SHARED_STATS["disk_hits"] >= 5
    warm_memory = _report_html("13", "all")
    assert diskcache.SHARED_STATS["memory_hits"] >= 5
    assert 'class="fne-table' in bypassed or "<table" in bypassed
    assert cold == bypassed
    assert warm_disk == bypassed
    assert warm_memory == bypassed
