"""The disk cache of parsed bundles (fne_eval.bundle.diskcache)."""
import pandas as pd

from fne_eval.bundle import diskcache
from fne_eval.bundle.io import write_bundle
from fne_eval.bundle.load import _load_uncached


def _bundle(folder, names=("Aix", "Arles")):
    territories = pd.DataFrame({"territory_code": ["13", "13001", "13004"],
                                "territory_name": ["Bouches-du-Rhône", *names],
                                "level": ["departement", "commune", "commune"],
                                "departement_code": ["13", "13", "13"], "in_scope": [True] * 3,
                                "source": ["test"] * 3})
    write_bundle({"territories": territories}, folder, meta={"name": "cache-test"})
    return folder


def test_second_process_reads_the_pickle_and_a_change_is_seen(tmp_path, monkeypatch):
    monkeypatch.setenv(diskcache.ENV, str(tmp_path / "cache"))
    folder = _bundle(tmp_path / "b")
    calls = []

    def build():
        calls.append(1)
        return _load_uncached(str(folder), False)

    first = diskcache.load_or_build(str(folder), False, build)
    assert len(calls) == 1 and len(list((tmp_path / "cache").glob("*" + diskcache.SUFFIX))) == 1
    again = diskcache.load_or_build(str(folder), False, build)
    assert len(calls) == 1  # served from disk
    assert again.hash == first.hash
    assert again["territories"]["territory_name"].tolist() == ["Bouches-du-Rhône", "Aix", "Arles"]
    # same size, other content: a new key, rebuilt
    _bundle(folder, names=("Aux", "Arlo"))
    third = diskcache.load_or_build(str(folder), False, build)
    assert len(calls) == 2
    assert third["territories"]["territory_name"].tolist()[1:] == ["Aux", "Arlo"]
    # validate is part of the key
    diskcache.load_or_build(str(folder), True, build)
    assert len(calls) == 3


def test_failed_build_is_not_stored_and_off_disables(tmp_path, monkeypatch):
    monkeypatch.setenv(diskcache.ENV, str(tmp_path / "cache"))
    folder = _bundle(tmp_path / "b")

    def boom():
        raise ValueError("bundle invalide")

    try:
        diskcache.load_or_build(str(folder), True, boom)
    except ValueError:
        pass
    assert not list((tmp_path / "cache").glob("*" + diskcache.SUFFIX))
    monkeypatch.setenv(diskcache.ENV, "off")
    assert diskcache.cache_dir() is None
    diskcache.load_or_build(str(folder), False, lambda: _load_uncached(str(folder), False))
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").glob("*" + diskcache.SUFFIX))


def test_one_call_key_for_shared_results_and_charts():
    """The shared results' key and the figure cache's key are one hashing of the call, with each its stamp.

    They were two copies of the same nine lines (duplicates D7); a change to how a call is keyed
    (say, a new argument type) must reach both.
    """
    from fne_eval.bundle import diskcache
    from fne_eval.report import figcache

    def f(*a, **k):
        return None

    args, kwargs = ({"13001": 1.5}, [1, "2"]), {"marked": {"13001"}}
    assert diskcache.shared_key(f, args, kwargs) == diskcache.call_key(f, args, kwargs,
                                                                       diskcache._shared_code_hash())
    assert figcache.chart_key(f, args, kwargs) == diskcache.call_key(f, args, kwargs,
                                                                     figcache._code_stamp(f.__module__))
    # the stamp is what separates them: the same call under two stamps has two keys
    assert diskcache.call_key(f, args, kwargs, "a") != diskcache.call_key(f, args, kwargs, "b")
    assert diskcache.call_key(f, ((x for x in [1]),), {}, "a") is None
