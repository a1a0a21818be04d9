"""Stage-3 libraries as the steps pass them on: members stay on disk, changes are small patches.

A stage-3 step that changes its input exposures (skymatch sets the background level, outlier
detection flags pixels) does not rewrite the files and does not keep the models: it returns a
:class:`LibraryView` of the library with per-member patches that are applied whenever a
member is opened:

* metadata values (``background.level``, ``cal_step.skymatch``, ...);
* scalar subtractions from SCI (skymatch with ``subtract=True``), applied in order in float32;
* DQ flags OR-ed into a sparse set of pixels (the outliers), after which SCI/ERR/VAR_* are set
  to NaN wherever DO_NOT_USE is set and DO_NOT_USE wherever one of them is NaN (as jwst's
  ``match_nans_and_flags``).

So a library of any size costs a few numbers per member plus the flagged pixel indices, and
every step still opens one member at a time.  Any object with ``len()`` and a context-manager
``open(i)`` (a :class:`jwcore.library.ModelLibrary`, or a view of one) can be wrapped.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from ... import dq as dqflags
from ...runner.naming import asn_id, member_base
from ...runner.step import is_library

__all__ = [
    "LibraryView", "is_library", "member_meta", "member_summary", "group_id_of", "group_indices", "asn_id",
    "member_base", "match_nans_and_flags",
]

NAN_ARRAYS = ("data", "err", "var_rnoise", "var_poisson", "var_flat")


def match_nans_and_flags(model, *, copy_on_write=False) -> None:
    """Make SCI/ERR/VAR_* NaN wherever any of them is NaN or DQ has DO_NOT_USE, and set
    DO_NOT_USE there (in place).

    ``copy_on_write``: the model's arrays are someone else's (not to be changed): an array
    that needs a change is replaced by a changed copy; the others are kept, as read-only
    views (they are NaN, or flagged, everywhere already).
    """
    invalid, shape = None, None
    for name in NAN_ARRAYS:
        arr = getattr(model, name, None)
        if arr is None:
            continue
        if invalid is None:
            invalid, shape = np.isnan(arr), arr.shape
        elif arr.shape == shape:
            invalid |= np.isnan(arr)
    if invalid is None:
        return
    dq = model.dq
    if dq is not None and dq.shape == shape:
        invalid |= (dq & dqflags.DO_NOT_USE).astype(bool)
        if copy_on_write:
            if np.any(invalid & ((dq & dqflags.DO_NOT_USE) == 0)):
                dq = model.dq = dq.copy()
                dq[invalid] |= np.uint32(dqflags.DO_NOT_USE)
            else:
                model.dq = _read_only(dq)
        else:
            dq[invalid] |= np.uint32(dqflags.DO_NOT_USE)
    for name in NAN_ARRAYS:
        arr = getattr(model, name, None)
        if arr is not None and arr.shape == shape:
            if not copy_on_write:
                arr[invalid] = np.nan
            elif np.any(invalid & ~np.isnan(arr)):
                arr = arr.copy()
                arr[invalid] = np.nan
                setattr(model, name, arr)
            else:
                setattr(model, name, _read_only(arr))


def _read_only(arr):
    view = arr.view()
    view.flags.writeable = False
    return view


class _Patch:
    __slots__ = ("meta", "offsets", "dq_index", "dq_flags")

    def __init__(self):
        self.meta: dict = {}
        self.offsets: list = []
        self.dq_index: list = []
        self.dq_flags: list = []

    def copy(self) -> "_Patch":
        p = _Patch()
        p.meta = dict(self.meta)
        p.offsets = list(self.offsets)
        p.dq_index = list(self.dq_index)
        p.dq_flags = list(self.dq_flags)
        return p

    def apply(self, model) -> None:
        if self.offsets:
            data = model.data
            if not data.flags.writeable:
                data = model.data = data.copy()
            for off in self.offsets:   # in place, as ``image -= sky`` (numpy promotion rules)
                np.subtract(data, off, out=data)
        if self.dq_index:
            dq = model.dq
            flat = dq.reshape(-1)
            for idx, flags in zip(self.dq_index, self.dq_flags):
                flat[idx] |= np.uint32(flags)
            match_nans_and_flags(model)
        for path, value in self.meta.items():
            model.meta.set(path, value)


class LibraryView:
    """A library with per-member patches (see the module docstring).  ``LibraryView(lib)``
    copies the patches of ``lib`` if it is itself a view, so steps never change their input."""

    def __init__(self, library):
        if isinstance(library, LibraryView):
            self.base = library.base
            self._patches = {i: p.copy() for i, p in library._patches.items()}
            self._summaries = dict(library._summaries)
        else:
            self.base = library
            self._patches = {}
            self._summaries = {}
        self._meta = None

    # -- what a ModelLibrary offers --------------------------------------------------------
    def __len__(self) -> int:
        return len(self.base)

    def __getattr__(self, name):
        if name.startswith("_") or name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)

    @property
    def meta(self):
        """The first member's (patched) metadata."""
        if self._meta is None:
            with self.open(0) as m:
                self._meta = m.meta
        return self._meta

    @contextmanager
    def open(self, index: int, modify: bool = False):
        """Open member ``index`` with its patches applied.  ``modify=True``: when the block ends
        without an error the model (patches included) becomes the member's new version."""
        with self.base.open(index) as model:
            patch = self._patches.get(index)
            if patch is not None:
                patch.apply(model)
            yield model
            if modify:
                self.replace(index, model)

    def __iter__(self):
        for i in range(len(self)):
            with self.open(i) as model:
                yield model

    # -- patches -------------------------------------------------------------------------
    def _patch(self, index: int) -> _Patch:
        self._meta = None
        return self._patches.setdefault(index, _Patch())

    def set_meta(self, index: int, path: str, value) -> None:
        """Set ``meta.<path>`` of member ``index`` (e.g. ``"background.level"``)."""
        self._patch(index).meta[path] = value
        if path.split(".")[0] in _SUMMARY_SOURCES:
            self._summaries.pop(index, None)

    def summary(self, index: int, meta: dict | None = None) -> dict:
        """:func:`member_summary` of member ``index``, kept until a patch changes its sources
        (``meta``: the member's metadata dict, when the caller already read it)."""
        if index not in self._summaries:
            self._summaries[index] = _summary(self, index, meta)
        return self._summaries[index]

    def subtract(self, index: int, value) -> None:
        """Subtract ``value`` from the member's SCI in place, after earlier subtractions (a
        Python float is subtracted in float32, a numpy float64 in float64, as numpy does)."""
        self._patch(index).offsets.append(value)

    def flag(self, index: int, mask: np.ndarray, flags: int) -> None:
        """OR ``flags`` into the member's DQ where ``mask`` is True (stored sparsely)."""
        idx = np.flatnonzero(mask)
        idx = idx.astype(np.uint32 if mask.size < 2 ** 32 else np.int64)
        self._patch(index).dq_index.append(idx)
        self._patch(index).dq_flags.append(int(flags))

    def patched(self, index: int) -> bool:
        return index in self._patches

    # -- the ModelLibrary change API (jwcore.library), so any step can use a view -----------
    def update_meta(self, index: int, values: dict) -> None:
        """Record metadata changes ``{dotted path under meta: value}`` for member ``index``."""
        for path, value in values.items():
            self.set_meta(index, path, value)

    def pending_meta(self, index: int) -> dict:
        base = getattr(self.base, "pending_meta", None)
        out = dict(base(index)) if base is not None else {}
        patch = self._patches.get(index)
        if patch is not None:
            out.update(patch.meta)
        return out

    def replace(self, index: int, model, apply_pending: bool = False):
        """Make ``model`` (opened through this view, so with its patches) the member's new
        version in the underlying library; this view's patches of it are then dropped."""
        if apply_pending:
            patch = self._patches.get(index)
            if patch is not None:
                patch.apply(model)
        replace = getattr(self.base, "replace", None)
        if replace is None:
            raise TypeError(f"{type(self.base).__name__} cannot store new member versions")
        path = replace(index, model, apply_pending=False)
        self._patches.pop(index, None)
        self._summaries.pop(index, None)
        self._meta = None
        return path


# -- member metadata -------------------------------------------------------------------------
def member_meta(library, index: int) -> dict:
    """Member ``index``'s metadata (as the library opens it) as a dict; pixels are not read."""
    peek = getattr(library, "peek_meta", None)
    if peek is not None:
        return peek(index)
    with library.open(index) as m:
        return m.meta.to_dict()


def group_id_of(meta: dict, member=None) -> str:
    """jwst's exposure grouping key: ``meta.group_id``, the association member's ``group_id``,
    or ``jw<program><obs><visit>_<visitgroup><seq><act>_<expnum>``; the file name otherwise."""
    if meta.get("group_id"):
        return str(meta["group_id"])
    extra = getattr(member, "extra", None) or {}
    if extra.get("group_id"):
        return str(extra["group_id"])
    obs = meta.get("observation") or {}
    keys = ("program_number", "observation_number", "visit_number", "visit_group", "sequence_id",
            "activity_id", "exposure_number")
    if all(obs.get(k) is not None for k in keys):
        return (f"jw{obs['program_number']}{obs['observation_number']}{obs['visit_number']}"
                f"_{obs['visit_group']}{obs['sequence_id']}{obs['activity_id']}_{obs['exposure_number']}")
    return str(meta.get("filename") or id(meta))


# metadata branches a member summary is made from (a patch there makes it stale)
_SUMMARY_SOURCES = {"filename", "group_id", "observation", "wcs", "wcsinfo", "exposure"}


def member_summary(library, index: int) -> dict:
    """The few metadata values stage-3 steps need of every member, without keeping its WCS:
    ``filename``, ``group_id``, ``s_region``, ``exp_type``.  (Keeping N full metadata trees,
    each with a gwcs, would grow with N.)
    A :class:`LibraryView` keeps them, so later steps do not open the members again for them."""
    if isinstance(library, LibraryView):
        return library.summary(index)
    return _summary(library, index)


def _summary(library, index: int, meta=None) -> dict:
    meta = member_meta(library, index) if meta is None else meta
    members = getattr(library, "members", None)
    member = members[index] if members is not None and index < len(members) else None
    return {"filename": meta.get("filename"), "group_id": group_id_of(meta, member),
            "s_region": (meta.get("wcsinfo") or {}).get("s_region"),
            "exp_type": (meta.get("exposure") or {}).get("type")}


def group_indices(library, summaries=None) -> dict:
    """``{group_id: [member indices]}`` in member order (exposures taken together, e.g. the
    detectors of one NIRCam exposure, form one group)."""
    out: dict = {}
    for i in range(len(library)):
        info = summaries[i] if summaries is not None else member_summary(library, i)
        out.setdefault(info["group_id"], []).append(i)
    return out
