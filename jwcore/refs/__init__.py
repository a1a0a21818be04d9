"""Reference-file selection: overrides first, then the selector plugins (CRDS, local store).

A selection never happens in a step's algorithm: the runner resolves every reference a step
declares before the step runs, records it in ``R_<REFTYPE>`` and in the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ReferenceFileError

NOT_APPLICABLE = "N/A"


@dataclass(frozen=True)
class Selection:
    """A chosen reference file: its path and where the choice came from."""

    path: str
    source: str = "local"          # "override", "local", "crds", a site plugin's name...
    context: str | None = None     # e.g. the CRDS context used
    sha256: str | None = None

    @property
    def header_value(self) -> str:
        """The value written in ``R_<REFTYPE>`` (jwst writes ``crds://<name>``)."""
        name = Path(self.path).name
        if self.source == "crds":
            return f"crds://{name}"
        if self.source == "override":
            return str(self.path)
        return name


@dataclass
class SelectionContext:
    """What selector plugins get besides reftype and metadata."""

    match_keys: tuple = ()
    store: object = None
    options: dict = field(default_factory=dict)


def _reftype_key(name: str) -> str:
    """REFTYPE spellings compared loosely (``ABVEGA_OFFSET`` is ``abvegaoffset``)."""
    return str(name).strip().lower().replace("_", "").replace("-", "")


def declared_reftype(path) -> str | None:
    """The REFTYPE a reference file declares (FITS primary header, or ASDF ``meta.reftype``);
    ``None`` when it declares none or cannot be read (the step reading it then says why)."""
    import warnings

    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if path.suffix.lower() == ".asdf":
                import asdf

                with asdf.open(path, lazy_load=True, memmap=False) as af:
                    meta = af.tree.get("meta")
                    value = meta.get("reftype") if isinstance(meta, dict) else None
            else:
                from astropy.io import fits

                value = fits.getheader(path, 0).get("REFTYPE")
    except Exception:   # unreadable: left to the reader, which reports it with its own words
        return None
    return str(value).strip() if isinstance(value, str) and value.strip() else None


def _empty_store_hint(store) -> str:
    """`` (the local store DIR has no store.json)`` when that is why nothing matched."""
    from .store import INDEX, LocalStore, default_store_path

    root = store.root if isinstance(store, LocalStore) else Path(store or default_store_path()).expanduser()
    return "" if (root / INDEX).is_file() else f" (the local reference store {root} has no {INDEX}; check --refs)"


def select_reference(pm, reftype: str, meta, override: str | None = None, store=None) -> Selection | None:
    """Resolve one reference: ``override`` (a path or ``"N/A"``), else the selector hooks.

    Returns ``None`` when the reference is not applicable (``"N/A"``).  Raises
    :class:`ReferenceFileError` naming the reftype and the keywords tried when nothing matches.
    """
    reftype = reftype.lower()
    if override is not None:
        if str(override).strip().upper() == NOT_APPLICABLE:
            return None
        path = Path(override).expanduser()
        if not path.is_file():
            raise ReferenceFileError(f"override_{reftype}: {override} does not exist")
        declared = declared_reftype(path)
        if declared and _reftype_key(declared) != _reftype_key(reftype):
            raise ReferenceFileError(f"override_{reftype}: {override} has REFTYPE {declared.upper()}, "
                                     f"not {reftype.upper()}")
        return Selection(str(path.resolve()), source="override")
    instrument = (meta.instrument.name or "").upper()
    keys = pm.hook.jwcal_reference_match_keys(instrument=instrument, reftype=reftype) or ()
    ctx = SelectionContext(match_keys=tuple(keys), store=store)
    answer = pm.hook.jwcal_select_reference(reftype=reftype, meta=meta, context=ctx)
    if answer is None:
        from ..datamodel.keywords import KEYWORDS

        def label(path):
            kw = KEYWORDS.keyword_for(path)
            return kw[0] if kw else path.split(".")[-1].upper()

        tried = ", ".join(f"{label(k)}={meta.get(k[len('meta.'):])!r}" for k in keys)
        raise ReferenceFileError(
            f"no {reftype} reference file matches {instrument or '?'} exposure ({tried or 'no match keys'}); "
            f"give one with --steps.<step>.override_{reftype}=PATH or add one with 'jwcal refs add'"
            + _empty_store_hint(store))
    if isinstance(answer, str):
        if answer.strip().upper() == NOT_APPLICABLE:
            return None
        answer = Selection(answer)
    return answer
