"""The local reference store: a folder of reference files plus a rules table.

``store.json`` lists one entry per file: its reftype, instrument, the values of its
selection keywords (a value may be ``"ANY"``/``"N/A"``, or alternatives ``"A|B|"`` as CRDS
writes them), USEAFTER and a SHA-256 checksum.  A file whose checksum no longer matches is
refused.

Selection (:meth:`LocalStore.select`) follows CRDS's ``Match`` + ``UseAfter`` rules:

* every selection keyword of the entry must match the exposure (:func:`match_weight`);
  an exact or pattern match (``"F200W|F150W|"``, ``"ANY"``, ``"*"``) counts 1, a
  "don't care" (``"N/A"``, empty, keyword absent from the reference) counts 0;
* the entries with the most counted matches are tried first (so a reference made for the
  exposure's subarray beats a generic one); among them the latest USEAFTER not after the
  exposure's DATE-OBS/TIME-OBS wins; if none of them is old enough, the next-best group
  is tried;
* subarrays: see :func:`serves_subarray` (``GENERIC`` and, for reftypes whose step cuts the
  subarray out of a full-frame reference, ``FULL``).

The store is found from ``--refs DIR``, else ``$JWCAL_REFS``, else ``~/.jwcal/refs``.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from ..atomic import atomic_path
from ..errors import ReferenceFileError

INDEX = "store.json"
WILDCARDS = {"ANY", "N/A", "*", ""}
DONT_CARE = {"N/A", ""}              # matches anything, adds nothing to the match weight
MATCH_ANY = {"ANY", "*"}             # matches anything, counts as a match (CRDS's "*")

SUBARRAY_KEY = "meta.subarray.name"
SUBARRAY_GEOMETRY_KEYS = frozenset({"meta.subarray.xstart", "meta.subarray.ystart",
                                    "meta.subarray.xsize", "meta.subarray.ysize"})

# Reftypes whose jwst step cuts the exposure's subarray out of a full-frame reference
# (jwst.lib.reffile_utils.get_subarray_model or an equivalent slice): dq_init (mask),
# saturation, superbias, linearity, jump/ramp_fit (gain, readnoise), flat_field (flat),
# ipc, photom (area).  For these a SUBARRAY="FULL" reference serves any subarray exposure of
# the same detector, at lower priority than a reference made for that subarray.  Not in
# the list: dark and reset (the step subtracts the reference as it is, so CRDS selects
# them by the exposure's exact SUBARRAY).
FULL_FRAME_SERVES_SUBARRAYS = frozenset({
    "mask", "saturation", "superbias", "linearity", "gain", "readnoise", "flat", "ipc", "area",
})


def default_store_path() -> Path:
    env = os.environ.get("JWCAL_REFS")
    return Path(env).expanduser() if env else Path.home() / ".jwcal" / "refs"


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parse_date(value) -> datetime | None:
    if value in (None, ""):
        return None
    text = str(value).strip().replace("T", " ")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ReferenceFileError(f"cannot read date {value!r}")


def exposure_date(meta) -> datetime | None:
    date = meta.get("observation.date")
    time = meta.get("observation.time") or "00:00:00"
    return parse_date(f"{date} {time}") if date else None


def _text(value) -> str:
    return "" if value is None else str(value).strip().upper()


def match_weight(ref_value, exp_value) -> int | None:
    """How a reference's selection value matches the exposure's value, as CRDS weighs it.

    ``None``: no match.  ``0``: "don't care" (``"N/A"``, empty, or the reference does not carry
    the keyword).  ``1``: a match: equal values, ``"ANY"``/``"*"``, or one alternative of a
    CRDS pattern ``"F200W|F150W|"`` (alternatives may use ``*`` globs).  Case-insensitive.
    """
    text = _text(ref_value)
    if text in DONT_CARE:
        return 0
    exp = _text(exp_value)
    options = [o.strip() for o in text.split("|") if o.strip()]
    if "N/A" in options:
        return 0
    for option in options:
        if option in MATCH_ANY or option == exp or fnmatch.fnmatchcase(exp, option):
            return 1
    return None


def value_matches(ref_value, exp_value) -> bool:
    """True if the reference value accepts the exposure value (see :func:`match_weight`)."""
    return match_weight(ref_value, exp_value) is not None


def serves_subarray(reftype: str, ref_subarray, exp_subarray) -> bool:
    """True if a full-frame/generic reference serves the exposure's (other) subarray.

    * ``SUBARRAY="GENERIC"`` serves every subarray, for every reftype (CRDS substitutes
      ``GENERIC`` with ``N/A`` in all JWST rmaps).
    * ``SUBARRAY="FULL"`` serves a subarray exposure only for the reftypes in
      :data:`FULL_FRAME_SERVES_SUBARRAYS`, whose step extracts the subarray itself; a dark or
      reset must be made for the exposure's subarray.

    When it does, the subarray keywords (SUBARRAY, SUBSTRT1/2, SUBSIZE1/2) are "don't care"
    for that reference, so a reference made for the exposure's own subarray is preferred.
    """
    ref, exp = _text(ref_subarray), _text(exp_subarray)
    if ref == "GENERIC":
        return True
    return ref == "FULL" and exp != "FULL" and reftype.lower() in FULL_FRAME_SERVES_SUBARRAYS


def entry_weight(entry: "StoreEntry", meta, match_keys, reftype: str | None = None) -> int | None:
    """The CRDS-style match weight of a store entry for an exposure (``None``: no match)."""
    reftype = reftype or entry.reftype
    full_frame = SUBARRAY_KEY in entry.match and serves_subarray(
        reftype, entry.match.get(SUBARRAY_KEY), meta.get(SUBARRAY_KEY[len("meta."):]))
    total = 0
    for key in match_keys:
        if full_frame and (key == SUBARRAY_KEY or key in SUBARRAY_GEOMETRY_KEYS):
            continue
        w = match_weight(entry.match.get(key), meta.get(key[len("meta."):]))
        if w is None:
            return None
        total += w
    return total


def pattern_path(path: str) -> str | None:
    """The CRDS pattern keyword's path for a selection path (``P_SUBARR`` for SUBARRAY...).

    A reference that applies to several values lists them in its pattern keyword
    (``P_SUBARR = 'FULL|SUB64P|'``); that list is what the rules table keeps.
    """
    from ..datamodel.keywords import KEYWORDS

    parent, _, leaf = path.rpartition(".")
    special = {"meta.subarray.name": "meta.subarray.p_subarray", "meta.exposure.type": "meta.exposure.p_exptype"}
    candidate = special.get(path, f"{parent}.p_{leaf}")
    return candidate if KEYWORDS.keyword_for(candidate, reference=True) else None


@dataclass
class StoreEntry:
    file: str
    reftype: str
    instrument: str
    useafter: str
    match: dict = field(default_factory=dict)   # meta path -> value from the reference header
    sha256: str = ""
    pedigree: str = ""
    description: str = ""
    # the file's size and modification time when its SHA-256 was taken: a file that still
    # has both is not hashed again at selection (as git trusts its index); `jwcal refs
    # verify` hashes everything
    size: int = 0
    mtime_ns: int = 0


class LocalStore:
    def __init__(self, root):
        self.root = Path(root).expanduser()
        self._entries: list[StoreEntry] | None = None

    # -- index -------------------------------------------------------------------------
    @property
    def entries(self) -> list[StoreEntry]:
        if self._entries is None:
            index = self.root / INDEX
            if not index.exists():
                self._entries = []
            else:
                try:
                    data = json.loads(index.read_text())
                    if not isinstance(data, dict) or not isinstance(data.get("files", []), list):
                        raise TypeError("expected an object with a 'files' list")
                    self._entries = [StoreEntry(**e) for e in data.get("files", [])]
                except (json.JSONDecodeError, TypeError, UnicodeDecodeError) as exc:
                    raise ReferenceFileError(f"{index}: corrupt reference store index ({exc})") from None
                except OSError as exc:
                    raise ReferenceFileError(f"{index}: cannot read the reference store index ({exc})") from None
        return self._entries

    def save_index(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        data = {"format": "jwcal-refstore-1", "files": [asdict(e) for e in self.entries]}
        with atomic_path(self.root / INDEX) as tmp:
            tmp.write_text(json.dumps(data, indent=1) + "\n")

    def add(self, path, match_keys_for=None, copy: bool = True) -> StoreEntry:
        """Add a reference file; its REFTYPE/INSTRUME/USEAFTER and match keys come from its header."""
        from ..datamodel.keywords import KEYWORDS

        path = Path(path)
        header = _read_ref_header(path)
        reftype = str(header.get("REFTYPE", "")).lower()
        instrument = str(header.get("INSTRUME", "")).upper()
        useafter = str(header.get("USEAFTER", ""))
        if not reftype or not instrument or not useafter:
            raise ReferenceFileError(f"{path}: a reference file needs REFTYPE, INSTRUME and USEAFTER keywords")
        keys = tuple(match_keys_for(instrument, reftype) or ()) if match_keys_for else ()
        match = {}
        for key in keys:
            pattern = pattern_path(key)
            pkw = KEYWORDS.keyword_for(pattern, reference=True) if pattern else None
            kw = KEYWORDS.keyword_for(key, reference=True)
            if pkw and str(header.get(pkw[0], "")).strip():
                match[key] = str(header[pkw[0]]).strip()
            elif kw and kw[0] in header:
                match[key] = str(header[kw[0]]).strip()
        dest = self.root / path.name
        self.root.mkdir(parents=True, exist_ok=True)
        if copy and path.resolve() != dest.resolve():
            with atomic_path(dest) as tmp:
                shutil.copyfile(path, tmp)
        st = dest.stat()
        entry = StoreEntry(file=path.name, reftype=reftype, instrument=instrument, useafter=useafter,
                           match=match, sha256=sha256(dest), pedigree=str(header.get("PEDIGREE", "")),
                           description=str(header.get("DESCRIP", "")), size=st.st_size, mtime_ns=st.st_mtime_ns)
        self._entries = [e for e in self.entries if e.file != entry.file] + [entry]
        return entry

    # -- selection ---------------------------------------------------------------------
    def weighted_candidates(self, reftype: str, meta, match_keys) -> list[tuple[int, StoreEntry]]:
        """``(weight, entry)`` for every entry of this reftype and instrument that matches."""
        instrument = str(meta.get("instrument.name") or "").upper()
        out = []
        for e in self.entries:
            if e.reftype != reftype or e.instrument != instrument:
                continue
            w = entry_weight(e, meta, match_keys, reftype)
            if w is not None:
                out.append((w, e))
        return out

    def candidates(self, reftype: str, meta, match_keys) -> list[StoreEntry]:
        return [e for _w, e in self.weighted_candidates(reftype, meta, match_keys)]

    def select(self, reftype: str, meta, match_keys) -> StoreEntry | None:
        """Best match first, then the latest USEAFTER not after the exposure (see module doc)."""
        when = exposure_date(meta)
        groups: dict[int, list[StoreEntry]] = {}
        for w, e in self.weighted_candidates(reftype, meta, match_keys):
            groups.setdefault(w, []).append(e)
        for w in sorted(groups, reverse=True):
            best, best_date = None, None
            for e in groups[w]:
                try:
                    d = parse_date(e.useafter)
                except ReferenceFileError as exc:
                    raise ReferenceFileError(f"reference store {self.root}: {e.file}: USEAFTER: {exc}") from None
                if when is not None and d is not None and d > when:
                    continue
                if best is None or (d or datetime.min) >= (best_date or datetime.min):
                    best, best_date = e, d
            if best is not None:
                return best
        return None

    def verified_path(self, entry: StoreEntry, *, full: bool = False) -> Path:
        """The entry's file, checked against its SHA-256 unless its size and modification time
        are still those recorded when it was hashed (``full``: always hash)."""
        name = str(entry.file)
        if not name or Path(name).name != name or name in (".", ".."):
            # the store keeps its files side by side (`add` records the bare name)
            raise ReferenceFileError(f"reference store {self.root}: entry {name!r} is not a file name inside "
                                     "the store; refusing it")
        path = self.root / name
        if not path.is_file():
            raise ReferenceFileError(f"reference store {self.root}: {entry.file} is listed but missing")
        if not entry.sha256:
            return path
        try:
            if not full and entry.size and entry.mtime_ns:
                st = path.stat()
                if (st.st_size, st.st_mtime_ns) == (entry.size, entry.mtime_ns):
                    return path
            digest = _checked_sha256(path, fresh=full)
        except OSError as exc:
            raise ReferenceFileError(f"reference store {self.root}: cannot read {entry.file} "
                                     f"({exc.strerror or exc})") from None
        if digest != entry.sha256:
            raise ReferenceFileError(f"reference store {self.root}: {entry.file} fails its checksum (corrupted?); refusing it")
        return path


_VERIFIED: dict = {}


def _checked_sha256(path: Path, fresh: bool = False) -> str:
    """SHA-256 of a reference, computed once per process for a given (path, size, mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if fresh or key not in _VERIFIED:
        _VERIFIED[key] = sha256(path)
    return _VERIFIED[key]


def _read_ref_header(path: Path) -> dict:
    if path.suffix == ".asdf":
        import asdf

        try:
            with asdf.open(path, lazy_load=True) as af:
                meta = af.tree.get("meta", {})
                inst = meta.get("instrument", {}) if isinstance(meta.get("instrument"), dict) else {}
                flat = {
                    "REFTYPE": meta.get("reftype"), "INSTRUME": inst.get("name"),
                    "USEAFTER": meta.get("useafter"), "PEDIGREE": meta.get("pedigree"),
                    "DESCRIP": meta.get("description"),
                }
                from ..datamodel.keywords import KEYWORDS
                from ..datamodel.node import _flatten

                leaves: dict = {}
                _flatten(meta, "meta", leaves)
                for p, v in leaves.items():
                    kw = KEYWORDS.keyword_for(p, reference=True)
                    if kw and isinstance(v, (str, int, float)):
                        flat.setdefault(kw[0], v)
                return {k: v for k, v in flat.items() if v is not None}
        except Exception as exc:
            raise ReferenceFileError(f"{path}: not a readable ASDF reference file ({exc})") from None
    from astropy.io import fits

    try:
        header = fits.getheader(path, 0)
    except Exception as exc:
        raise ReferenceFileError(f"{path}: not a readable FITS reference file ({exc})") from None
    return dict(header)
