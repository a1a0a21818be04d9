"""Resume: a product is up to date when its inputs, parameters, references and software
versions are what they were when it was made.

The key of a unit is a SHA-256 over: pipeline and instrument, the full parameter config,
each reference's checksum (or path, size and mtime when no checksum is known), each input's
path, size and modification time, and the versions of jwcal and every loaded plugin.  Keys
are kept in ``<output_dir>/.jwcal-state.json``; a unit whose key matches and whose outputs
all exist is skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from ..atomic import atomic_path

STATE_FILE = ".jwcal-state.json"


def file_signature(path) -> list:
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        return [str(p), None, None]
    return [str(p.resolve()), st.st_size, st.st_mtime_ns]


def unit_inputs(unit) -> list:
    if unit.association is not None and unit.product is not None:
        return [unit.association.member_path(m) for m in unit.product.members]
    return [unit.input]


def unit_key(unit, config: dict, references: dict, versions: dict) -> str:
    refs = {}
    for reftype, sel in sorted(references.items()):
        if sel is None:
            refs[reftype] = "N/A"
        else:
            refs[reftype] = sel.sha256 or file_signature(sel.path)
    payload = {
        "pipeline": unit.pipeline, "instrument": unit.instrument, "config": config, "references": refs,
        "inputs": [file_signature(p) for p in unit_inputs(unit)], "versions": versions,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


class State:
    def __init__(self, output_dir):
        self.path = Path(output_dir) / STATE_FILE
        try:
            self.keys: dict = json.loads(self.path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            self.keys = {}
        if not isinstance(self.keys, dict):   # not ours (or damaged): start afresh, as for bad JSON
            self.keys = {}

    def up_to_date(self, unit, key: str) -> bool:
        return self.keys.get(unit.id) == key and all(Path(p).exists() for p in unit.outputs)

    def record(self, unit, key: str) -> None:
        self.keys[unit.id] = key
        self.save()

    def forget(self, unit) -> None:
        if self.keys.pop(unit.id, None) is not None:
            self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path) as tmp:
            tmp.write_text(json.dumps(self.keys, indent=1, sort_keys=True))


def versions(pm) -> dict:
    from .. import __version__

    out = {"jwcal": __version__}
    for info in pm.infos.values():
        if not info.builtin:
            out[info.distribution] = info.version
    out["numpy"] = __import__("numpy").__version__
    out["python"] = os.sys.version.split()[0]
    return out
