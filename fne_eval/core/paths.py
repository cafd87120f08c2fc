"""Every path the package uses, built in one place."""
from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = PACKAGE_DIR / "data"
#: Raw reference data copied from shared/data (with PROVENANCE.md).
REFERENCE_DIR = DATA_DIR / "reference"
#: National files (all communes, EPCI, IFN) for national-scale runs.
NATIONAL_DIR = DATA_DIR / "national"
#: Real 2023 samples (lieux, France Services, conseiller numérique structures).
SAMPLES_DIR = DATA_DIR / "samples"
#: Open-data standards (schemas) as published.
STANDARDS_DIR = DATA_DIR / "standards"
#: The roadmap transcribed by hand from the seed, each figure with its source.
ROADMAP_DIR = DATA_DIR / "roadmap"
#: The embedded default bundle (a bundle folder like any user's).
DEFAULT_BUNDLE_DIR = DATA_DIR / "default_bundle"
#: Notebooks and run plans live at the top of the source tree.
SOURCE_ROOT = PACKAGE_DIR.parent
NOTEBOOKS_DIR = SOURCE_ROOT / "notebooks"
PARAMS_DIR = SOURCE_ROOT / "params"
OUTPUTS_DIR = SOURCE_ROOT / "outputs"
