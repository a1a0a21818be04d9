"""Run units one after the other, isolating failures."""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field

from ..errors import JwcalError
from ..runner.context import RunContext
from ..runner.pipeline import Pipeline

log = logging.getLogger("jwcal.run")


@dataclass
class Outcome:
    unit: object
    status: str                 # "ok" | "failed"
    seconds: float = 0.0
    message: str = ""
    outputs: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    references: dict = field(default_factory=dict)


def run_unit(unit, pm, config: dict, output_dir=None, store=None) -> Outcome:
    """Run one unit; a user error or a crash fails this unit only."""
    from ..datamodel import open_model

    t0 = time.perf_counter()
    ctx = RunContext(pm=pm, input_path=unit.input, output_dir=output_dir, store=store,
                     protect=_protected(unit))
    ctx.association = unit.association
    ctx.product = unit.product
    try:
        spec = pm.registry.pipeline(unit.pipeline, unit.instrument)
        pipeline = Pipeline(spec, pm.registry, config)
        if unit.stage == 3 and unit.association is not None:
            from ..library import ModelLibrary

            model = ModelLibrary(unit.association, unit.product)
            ctx.input_path = unit.association.folder / f"{unit.product.name}.fits"
        else:
            model = open_model(unit.input)
        pipeline.run(model, ctx)
        status, message = "ok", ""
    except JwcalError as exc:
        status, message = "failed", str(exc)
        log.error("%s: %s", unit.name, message)
    except Exception as exc:  # a bug: keep the traceback in the log, go on with the others
        status, message = "failed", f"internal error {type(exc).__name__}: {exc}"
        log.error("%s failed with an internal error:\n%s", unit.name, traceback.format_exc())
    refs = {k[0]: (v.path if v else "N/A") for k, v in ctx.references.items()}
    return Outcome(unit, status, time.perf_counter() - t0, message, list(ctx.written), list(ctx.steps), refs)


def _protected(unit) -> tuple:
    out = [unit.input]
    if unit.association is not None:
        for product in unit.association.products:
            for member in product.members:
                try:
                    out.append(unit.association.member_path(member))
                except JwcalError:
                    pass
    return tuple(out)
