"""``jwcal info FILE``: what a product holds."""

from __future__ import annotations

import click
import numpy as np

from .. import dq as dqflags

KEY_META = ("model_type", "filename", "instrument.name", "instrument.detector", "exposure.type",
            "instrument.filter", "instrument.pupil", "subarray.name", "exposure.readpatt",
            "exposure.ngroups", "exposure.nints", "exposure.group_time", "observation.date",
            "observation.time", "target.catalog_name", "calibration_software_version", "bunit_data")


def describe(path) -> str:
    from ..datamodel import open_model

    lines = []
    with open_model(path) as model:
        m = model.meta
        lines.append(f"{path}: {model.model_type}")
        for key in KEY_META:
            value = m.get(key)
            if value is not None:
                lines.append(f"  {key:28} {value}")
        lines.append("  arrays:")
        for name in model.present_arrays():
            arr = getattr(model, name)
            shape = getattr(arr, "shape", ())
            lines.append(f"    {name:22} {model.spec(name).extname:12} {str(shape):24} {getattr(arr, 'dtype', '')}")
        steps = m.get("cal_step") or {}
        if steps:
            lines.append("  steps: " + ", ".join(f"{k}={v}" for k, v in steps.items()))
        refs = m.get("ref_file") or {}
        used = {k: v.get("name") for k, v in refs.items() if isinstance(v, dict) and v.get("name")}
        if used:
            lines.append("  references:")
            lines.extend(f"    {k:14} {v}" for k, v in used.items())
        for name in ("dq", "pixeldq"):
            if model.has(name):
                lines.append(f"  {name} summary (pixels with each flag):")
                lines.extend(dq_summary(getattr(model, name)))
    return "\n".join(lines)


def dq_summary(dq: np.ndarray) -> list[str]:
    out = []
    total = dq.size
    for flag, value in dqflags.PIXEL.items():
        if value == 0:
            continue
        n = int(np.count_nonzero(dq & value))
        if n:
            out.append(f"    {flag:18} {n:10d}  ({100 * n / total:.2f}%)")
    return out or ["    (no flags set)"]


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
def info(files):
    """Show a product's shapes, key metadata, references used and DQ summary."""
    for path in files:
        click.echo(describe(path))


COMMANDS = (info,)
