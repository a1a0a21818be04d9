"""The local reference store: a folder of reference files plus a rules table.

``store.json`` lists one entry per file: its reftype, instrument, the values of its
selection keywords (a value may be ``"ANY"``/``"N/A"``, or alternatives ``"A|B|"`` as CRDS
writes them), USEAFTER and a SHA-256 checksum.  Selection (:meth:`LocalStore.select`) keeps
the entries whose keywords match the exposure and takes the latest USEAFTER not after the
exposure's DATE-OBS/TIME-OBS.  A file whose checksum no longer matches is refused.

The store is found from ``--refs DIR``, else ``$JWCAL_REFS``, else ``~/.jwcal/refs``.
"""

from __future__ import annotations

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


def value_matches(ref_value, exp_value) -> bool:
    if ref_value is None:
        return True
    text = str(ref_value).strip().upper()
    if text in WILDCARDS:
        return True
    options = {o.strip() for o in text.split("|") if o.strip()}
    if options & {"ANY", "N/A"}:
        return True
    return str(exp_value).strip().upper() in options


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
                    self._entries = [StoreEntry(**e) for e in data.get("files", [])]
                except (json.JSONDecodeError, TypeError) as exc:
                    raise ReferenceFileError(f"{index}: corrupt reference store index ({exc})") from None
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
            kw = KEYWORDS.keyword_for(key, reference=True)
            if kw and kw[0] in header:
                match[key] = str(header[kw[0]])
        dest = self.root / path.name
        self.root.mkdir(parents=True, exist_ok=True)
        if copy and path.resolve() != dest.resolve():
            with atomic_path(dest) as tmp:
                shutil.copyfile(path, tmp)
        entry = StoreEntry(file=path.name, reftype=reftype, instrument=instrument, useafter=useafter,
                           match=match, sha256=sha256(dest), pedigree=str(header.get("PEDIGREE", "")),
                           description=str(header.get("DESCRIP", "")))
        self._entries = [e for e in self.entries if e.file != entry.file] + [entry]
        return entry

    # -- selection ---------------------------------------------------------------------
    def candidates(self, reftype: str, meta, match_keys) -> list[StoreEntry]:
        instrument = str(meta.get("instrument.name") or "").upper()
        out = []
        for e in self.entries:
            if e.reftype != reftype or e.instrument != instrument:
                continue
            if all(value_matches(e.match.get(k), meta.get(k[len("meta."):])) for k in match_keys):
                out.append(e)
        return out

    def select(self, reftype: str, meta, match_keys) -> StoreEntry | None:
        when = exposure_date(meta)
        best, best_date = None, None
        for e in self.candidates(reftype, meta, match_keys):
            d = parse_date(e.useafter)
            if when is not None and d is not None and d > when:
                continue
            if best is None or (d or datetime.min) >= (best_date or datetime.min):
                best, best_date = e, d
        return best

    def verified_path(self, entry: StoreEntry) -> Path:
        path = self.root / entry.file
        if not path.is_file():
            raise ReferenceFileError(f"reference store {self.root}: {entry.file} is listed but missing")
        if entry.sha256 and sha256(path) != entry.sha256:
            raise ReferenceFileError(f"reference store {self.root}: {entry.file} fails its checksum (corrupted?); refusing it")
        return path


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
