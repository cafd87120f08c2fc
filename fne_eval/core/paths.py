"""Every path the package uses, built in one place."""
from __future__ import annotations

import os
import tempfile
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


def current_umask() -> int:
    """Return the process's umask (read without changing it where Linux says it, else set and restored)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def chmod_as_umask(path, directory: bool = False) -> None:
    """Give ``path`` the permissions a plain ``open()``/``mkdir()`` would have given it.

    Temporary files and folders (``tempfile.mkstemp``/``mkdtemp``, used to write outputs
    atomically) are created 0600/0700; once renamed into place they must be readable as
    the user's umask says (0644/0755 with the usual 022), like any file they write.
    """
    os.chmod(path, (0o777 if directory else 0o666) & ~current_umask())


def atomic_write_bytes(out, data: bytes) -> Path:
    """Write ``data`` to ``out`` through a temporary file beside it and a rename; return ``out``.

    A reader never sees half a file, a failed write leaves the previous file in place, and
    the file gets the permissions the user's umask gives (:func:`chmod_as_umask`).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=str(out.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        chmod_as_umask(tmp)
        os.replace(tmp, out)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return out
