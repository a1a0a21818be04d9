"""The members of an association product, opened one (or a few) at a time.

Stage-3 steps iterate a :class:`ModelLibrary` instead of holding every exposure in memory,
so peak memory grows with the output, not with the number of inputs.

A step that changes members hands the changes back to the library, and every later
``open`` (by the same or a following step) sees them:

* :meth:`ModelLibrary.update_meta` -- metadata only (tweakreg's new WCS, a sky level, a
  ``S_<STEP>`` status): kept in memory, applied to the model each time the member is opened;
* :meth:`ModelLibrary.replace` -- a whole new version of a member (e.g. new DQ flags): written
  to the library's scratch folder, which is opened from then on (the input file is never
  touched); ``open(i, modify=True)`` does this when its block ends without an error.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
import weakref
from contextlib import contextmanager
from pathlib import Path


class ModelLibrary:
    def __init__(self, association, product=None, exptype: str = "science", workdir=None):
        self.association = association
        self.product = product or association.products[0]
        self.members = [m for m in self.product.members if m.exptype == exptype]
        self.paths: list[Path] = [association.member_path(m) for m in self.members]
        self.original_paths: list[Path] = list(self.paths)
        self._meta = None
        self._patches: list[dict] = [{} for _ in self.paths]
        self._workdir_parent = workdir
        self._scratch: Path | None = None
        self._cleanup = None

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def meta(self):
        """The first member's metadata (what a pipeline reads for routing and naming)."""
        if self._meta is None:
            from .datamodel import open_model

            with open_model(self.paths[0]) as m:
                self._apply(0, m)
                self._meta = m.meta
        return self._meta

    # -- changes -------------------------------------------------------------------------
    def update_meta(self, index: int, values: dict) -> None:
        """Record metadata changes for member ``index``: ``{dotted path under meta: value}``,
        e.g. ``{"wcs": gwcs, "wcsinfo.s_region": "...", "cal_step.tweakreg": "COMPLETE"}``.
        A value replaces what is there (a dict replaces the whole sub-tree)."""
        self._check(index)
        self._patches[index].update(values)
        if index == 0:
            self._meta = None

    def pending_meta(self, index: int) -> dict:
        """The metadata changes recorded for member ``index`` and not yet written to a file."""
        self._check(index)
        return dict(self._patches[index])

    def replace(self, index: int, model, apply_pending: bool = True) -> Path:
        """Make ``model`` member ``index``'s current version (written to the scratch folder).

        ``apply_pending``: apply the recorded :meth:`update_meta` changes to ``model`` first
        (a model from :meth:`open` already has them).  Returns the new file's path.
        """
        from .datamodel import write

        self._check(index)
        if apply_pending:
            self._apply(index, model)
        path = self.scratch / self.original_paths[index].name
        write(model, path)   # atomic: a model memory-mapping the old copy keeps reading it
        self.paths[index] = path
        self._patches[index] = {}
        if index == 0:
            self._meta = None
        return path

    @property
    def scratch(self) -> Path:
        """The library's private folder for replaced members (removed with the library)."""
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="jwcal-library-", dir=self._workdir_parent))
            self._cleanup = weakref.finalize(self, shutil.rmtree, str(self._scratch), True)
        return self._scratch

    def cleanup(self) -> None:
        """Remove the scratch folder now (replaced members are lost)."""
        if self._cleanup is not None:
            self._cleanup()
            self._scratch = None
            self._cleanup = None
            self.paths = list(self.original_paths)

    # -- access ----------------------------------------------------------------------------
    @contextmanager
    def open(self, index: int, modify: bool = False):
        """Open member ``index`` (with its recorded changes); it is closed when the block ends.

        ``modify=True``: when the block ends without an error the model becomes the member's
        new version (:meth:`replace`).
        """
        from .datamodel import open_model

        self._check(index)
        model = open_model(self.paths[index])
        try:
            self._apply(index, model)
            yield model
            if modify:
                self.replace(index, model, apply_pending=False)
        finally:
            model.close()

    def __iter__(self):
        for i in range(len(self)):
            with self.open(i) as model:
                yield model

    def _apply(self, index: int, model) -> None:
        for key, value in self._patches[index].items():
            model.meta.set(key, copy.deepcopy(value))

    def _check(self, index: int) -> None:
        if not -len(self) <= index < len(self):
            raise IndexError(f"library has {len(self)} members; no member {index}")
