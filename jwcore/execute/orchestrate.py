"""The coordinator: resolve references once, skip what is up to date, fan out ready units,
isolate failures (dependants of a failed unit are skipped), show progress, write the record."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..datamodel.node import Node
from ..errors import JwcalError
from .executors import make_executor
from .progress import Progress
from .record import unit_entry, write_manifest
from .state import State, unit_key, versions
from .worker import Job, Outcome

log = logging.getLogger("jwcal.run")


@dataclass
class RunOptions:
    output_dir: Path
    config: dict = field(default_factory=dict)
    executor: str = "processes"
    jobs: int | None = None
    scheduler: str | None = None
    force: bool = False
    store: object = None
    pinned: dict = field(default_factory=dict)     # unit id -> reftype -> Selection (from a manifest)
    live_progress: bool | None = None


def resolve_references(pm, unit, config, store, pinned=None) -> dict:
    """Every reference the unit's non-skipped steps need, selected once, here."""
    from ..runner.pipeline import Pipeline

    if pinned is not None:
        return dict(pinned)
    from ..runner.context import RunContext

    spec = pm.registry.pipeline(unit.pipeline, unit.instrument)
    pipeline = Pipeline(spec, pm.registry, config, strict=False)
    stand_in = _MetaOnly(Node(unit.meta, "meta"))
    ctx = RunContext(pm=pm, store=store)
    refs = {}
    for step in pipeline.steps:
        if step.skip:
            continue
        for reftype in step.wanted_references(stand_in):
            if getattr(step, f"override_{reftype}") is None and reftype not in refs:
                refs[reftype] = step.select_one(reftype, stand_in.meta, ctx)
    return refs


class _MetaOnly:
    """What ``Step.wanted_references`` may look at before the data is opened: the metadata."""

    def __init__(self, meta):
        self.meta = meta


def effective_parameters(pm, unit, config) -> dict:
    """The parameters this unit's pipeline will really use (so a stage-2 option does not
    invalidate a stage-1 product)."""
    from ..runner.pipeline import PIPELINE_PARAMS, Pipeline

    spec = pm.registry.pipeline(unit.pipeline, unit.instrument)
    pipeline = Pipeline(spec, pm.registry, config, strict=False)
    out = {p.name: getattr(pipeline, p.name) for p in spec.all_params() if p not in PIPELINE_PARAMS or p.name != "output_dir"}
    out["steps"] = {use.key: step.parameters() for use, step in zip(pipeline.spec.steps, pipeline.steps)}
    return out


def run_graph(pm, units, opts: RunOptions) -> list[tuple]:
    """Run ``units`` (a planned graph) and return ``[(unit, Outcome), ...]`` in plan order."""
    opts.output_dir.mkdir(parents=True, exist_ok=True)
    state = State(opts.output_dir)
    vers = versions(pm)
    by_id = {u.id: u for u in units}
    outcomes: dict[str, Outcome] = {}
    keys: dict[str, str] = {}
    progress = Progress(len(units), live=opts.live_progress)
    executor = make_executor(opts.executor, opts.jobs, opts.scheduler)
    from ..parallel import cores

    threads = max(1, cores() // max(1, min(executor.workers, len(units))))
    log.info("running %d unit(s) with the %s executor (%d worker(s), %d thread(s) each)",
             len(units), executor.name, executor.workers, threads)
    pending: dict = {}   # future -> unit
    try:
        while len(outcomes) < len(units):
            for unit in units:
                if unit.id in outcomes or unit in pending.values():
                    continue
                deps = [outcomes.get(d) for d in unit.depends if d in by_id]
                if any(d is None for d in deps):
                    continue
                bad = [d for d in deps if d.status not in ("ok", "up-to-date")]
                if bad:
                    outcomes[unit.id] = Outcome(unit.id, "skipped", message="an input it needs failed")
                    progress.finished_unit(unit, "skipped", message="dependency failed")
                    continue
                try:
                    refs = resolve_references(pm, unit, opts.config, opts.store, opts.pinned.get(unit.id))
                except JwcalError as exc:
                    outcomes[unit.id] = Outcome(unit.id, "failed", message=str(exc))
                    log.error("%s: %s", unit.name, exc)
                    progress.finished_unit(unit, "failed", message=str(exc))
                    continue
                key = unit_key(unit, effective_parameters(pm, unit, opts.config), refs, vers)
                keys[unit.id] = key
                if not opts.force and state.up_to_date(unit, key):
                    outcomes[unit.id] = Outcome(unit.id, "up-to-date", outputs=[str(p) for p in unit.outputs],
                                                references={k: (v and {"path": v.path, "source": v.source,
                                                                       "sha256": v.sha256}) for k, v in refs.items()})
                    progress.finished_unit(unit, "up-to-date")
                    continue
                state.forget(unit)
                job = Job(unit, opts.config, opts.output_dir, refs, threads)
                progress.started(unit)
                pending[executor.submit(job)] = unit
            if not pending:
                continue
            done, _ = executor.wait_any(set(pending))
            for fut in done:
                unit = pending.pop(fut)
                try:
                    outcome = fut.result()
                except Exception as exc:  # a worker died (killed, out of memory...)
                    outcome = Outcome(unit.id, "failed", message=f"worker died: {type(exc).__name__}: {exc}")
                outcomes[unit.id] = outcome
                if outcome.status == "ok":
                    state.record(unit, keys[unit.id])
                progress.finished_unit(unit, outcome.status, outcome.seconds, outcome.message)
    finally:
        progress.close()
        executor.close()
    return [(u, outcomes[u.id]) for u in units]


def record_run(pm, results, *, command, options, inputs, config, output_dir, started) -> Path:
    return write_manifest(output_dir, command=command, options=options, inputs=inputs, config=config,
                          versions=versions(pm), units=[unit_entry(u, o) for u, o in results], started=started)


def now():
    return datetime.now(timezone.utc)
