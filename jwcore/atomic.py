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
        # mkstemp makes the file private (0600); a product gets the usual mode (0666 - umask)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process umask: from /proc on Linux (no side effect), else by setting and restoring it."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
