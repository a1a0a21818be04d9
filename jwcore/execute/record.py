"""The run record: a JSON manifest with everything needed to reproduce a run.

Written to ``<output_dir>/jwcal_run_<UTC time>.json`` (and copied to ``jwcal_run_latest.json``):
jwcal and plugin versions, the command, every option and parameter, the inputs, and for each
unit its status, timings (per step), outputs with SHA-256, and every reference with its path,
source and checksum.  ``jwcal run --manifest FILE`` re-runs the same units with the same
parameters and references; ``jwcal report FILE`` renders it as an HTML page.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

from ..atomic import atomic_path
from ..errors import BadInputError

FORMAT = "jwcal-run-1"


def sha256(path) -> str | None:
    p = Path(path)
    if not p.is_file():
        return None
    h = hashlib.sha256()
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def unit_entry(unit, outcome) -> dict:
    return {
        "id": unit.id, "pipeline": unit.pipeline, "instrument": unit.instrument, "exp_type": unit.exp_type,
        "stage": unit.stage, "input": str(unit.input), "depends": list(unit.depends),
        "status": outcome.status, "seconds": round(outcome.seconds, 3), "message": outcome.message,
        "outputs": [{"path": str(p), "sha256": sha256(p)} for p in outcome.outputs],
        "steps": [list(s) for s in outcome.steps],
        "references": outcome.references,
    }


def write_manifest(output_dir, *, command, options, inputs, config, versions, units, started) -> Path:
    now = datetime.now(timezone.utc)
    doc = {
        "format": FORMAT, "started": started.isoformat(timespec="seconds"),
        "finished": now.isoformat(timespec="seconds"), "command": list(command), "versions": versions,
        "options": options, "inputs": [str(Path(p).resolve()) for p in inputs], "config": config,
        "units": units,
    }
    out = Path(output_dir) / f"jwcal_run_{now.strftime('%Y%m%dT%H%M%S')}.json"
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    latest = Path(output_dir) / "jwcal_run_latest.json"
    with atomic_path(latest) as tmp:
        shutil.copyfile(out, tmp)
    return out


def read_manifest(path) -> dict:
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such run record") from None
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{path}: not a jwcal run record ({exc})") from None
    if not isinstance(doc, dict):
        raise BadInputError(f"{path}: not a jwcal run record (a JSON {type(doc).__name__}, not an object)")
    if doc.get("format") != FORMAT:
        raise BadInputError(f"{path}: not a jwcal run record (format {doc.get('format')!r})")
    return doc


def pinned_references(doc: dict) -> dict:
    """unit id -> reftype -> Selection, as recorded."""
    from ..refs import Selection

    out = {}
    for u in doc.get("units", []):
        refs = {}
        for reftype, r in (u.get("references") or {}).items():
            refs[reftype] = None if r is None else Selection(r["path"], source=r.get("source", "local"),
                                                               sha256=r.get("sha256"))
        out[u["id"]] = refs
    return out
