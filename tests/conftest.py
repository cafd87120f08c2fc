"""Shared fixtures. Keep fixtures of one module in that module's test file."""
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def default_bundle():
    """The embedded default bundle, loaded once per test session."""
    from fne_eval.bundle import load_bundle

    return load_bundle()
