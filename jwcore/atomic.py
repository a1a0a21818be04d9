"""Write files so a reader never sees half of one, and never over an input."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import JwcalError


@contextlib.contextmanager
def atomic_path(path, overwrite: bool = True, protect=()):
    """Yield a temporary path beside ``path``; rename it onto ``path`` if the block succeeds.

    ``protect`` lists input files that must never be overwritten.
    """
    path = Path(path)
    for p in protect:
        if p and Path(p).exists() and path.exists() and os.path.samefile(p, path):
            raise JwcalError(f"refusing to overwrite input file {path}")
    if path.exists() and not overwrite:
        raise JwcalError(f"{path} exists (use --overwrite or another output name)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
