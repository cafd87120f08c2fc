"""Issue 13: the tests that read the seed read a copy inside the repository (none skipped in a fresh clone)."""
import hashlib
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SEED = TESTS / "data" / "seed" / "feuille-de-route-fne-13.txt"


def test_seed_copy_is_in_the_repository_and_intact():
    text = (TESTS / "data" / "seed" / "SOURCE.md").read_text(encoding="utf-8")
    recorded = re.search(r"`([0-9a-f]{64})`", text).group(1)
    assert hashlib.sha256(SEED.read_bytes()).hexdigest() == recorded
    # the seed's own words (section 4, the roadmap's first axis), read in the document
    assert "France Numérique Ensemble" in SEED.read_text(encoding="utf-8")


def test_no_test_reads_outside_the_repository():
    outside = re.compile(r"""parents?\[\d\]\.parent\s*/\s*["']shared|["']/work/|\.\.\s*/\s*["']shared""")
    offenders = [p.name for p in TESTS.glob("*.py") if p.name != Path(__file__).name
                 and outside.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
