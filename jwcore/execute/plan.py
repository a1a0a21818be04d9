"""From the paths a user gives to a run graph of units.

A raw ramp (uncal) starts at stage 1, a ``_rate``/``_rateints`` at stage 2, a level-2
association at stage 2 (one unit per product), a level-3 association at stage 3.  From there
the graph continues through the later stages the input's EXP_TYPE route names (up to
``to_stage``): stage 2 per exposure, then stage 3 per level-3 association generated from the
exposures' metadata (program, observation, target, instrument, filter, pupil), as the
manual's Level3 imaging rules group them.  ``stage=N`` runs stage N only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BadInputError, JwcalError
from ..runner.naming import basename, output_path

log = logging.getLogger("jwcal.plan")

STAGE_BY_SUFFIX = {"uncal": 1, "ramp": 1, "dark": 1, "rate": 2, "rateints": 2, "cal": 3, "calints": 3, "crf": 3}
RAW_MODELS = {"Level1bModel", "RampModel", "GuiderRawModel"}
OUTPUT_SUFFIX = {1: "rate", 2: "cal"}   # what a stage hands to the next one


@dataclass
class Unit:
    """One pipeline run: a pipeline on an exposure (path) or an association product."""

    id: str
    pipeline: str
    instrument: str | None
    exp_type: str | None
    input: Path
    stage: int | None
    meta: dict = field(default_factory=dict)   # the exposure's metadata (for references, grouping)
    association: object = None
    product: object = None
    depends: list = field(default_factory=list)
    outputs: list = field(default_factory=list)  # predicted main product path(s)

    @property
    def name(self) -> str:
        return self.product.name if self.product is not None else basename(self.input)


@dataclass
class Failure:
    input: str
    message: str


def expand_inputs(paths) -> list[Path]:
    """Files as given.  A folder contributes its raw exposures (``*_uncal.fits``) if it has
    any (associations beside them describe products still to be made); otherwise its
    association files; otherwise its FITS files."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.glob("*_uncal.fits")) or sorted(p.glob("*_asn.json")) or sorted(p.glob("*.fits"))
            if not found:
                raise BadInputError(f"{p}: folder has no FITS or association files")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise BadInputError(f"{p}: no such file or folder")
    return out


def stage_of(path: Path, model_type: str | None) -> int:
    suffix = Path(path).name.rsplit(".", 1)[0].rsplit("_", 1)[-1].lower()
    if suffix in STAGE_BY_SUFFIX:
        return STAGE_BY_SUFFIX[suffix]
    if model_type in RAW_MODELS:
        return 1
    return 2


class Planner:
    """Builds the unit graph.  Inputs that cannot be planned become ``failures``."""

    def __init__(self, registry, output_dir=None, pipeline: str | None = None, stage: int | None = None,
                 to_stage: int = 3):
        self.registry = registry
        self.output_dir = Path(output_dir) if output_dir else Path.cwd()
        self.pipeline = pipeline
        self.stage = stage
        self.to_stage = stage if stage else to_stage
        self.units: list[Unit] = []
        self.failures: list[Failure] = []
        self.notes: list[str] = []

    # -- entry -------------------------------------------------------------------------
    def plan(self, paths) -> "Planner":
        from .. import asn as asnmod
        from ..datamodel import read_meta

        level2_done: list[Unit] = []
        for path in expand_inputs(paths):
            try:
                if asnmod.is_association(path):
                    level2_done.extend(self._plan_asn(asnmod.load(path)))
                    continue
                meta = read_meta(path)
                exp_type = (meta.get("exposure") or {}).get("type")
                instrument = (meta.get("instrument") or {}).get("name")
                if not exp_type or not instrument:
                    raise BadInputError(f"{path}: missing EXP_TYPE or INSTRUME keyword; not a JWST exposure")
                first = self.stage or stage_of(path, meta.get("model_type"))
                if first >= 2 and not self.pipeline and meta.get("model_type") in RAW_MODELS:
                    raise BadInputError(f"{path}: is a raw ramp ({meta['model_type']}), not a stage-{first} input; "
                                        "run stage 1 on it first")
                unit = self._unit(first, path, meta, explicit=True)
                level2_done.extend(self._chain(unit))
            except JwcalError as exc:
                self.failures.append(Failure(str(path), str(exc)))
        if self.to_stage >= 3 and not self.pipeline:
            self._plan_level3(level2_done)
        return self

    # -- helpers -----------------------------------------------------------------------
    def _pipeline_name(self, stage, exp_type, instrument, explicit):
        name = self.pipeline if (explicit and self.pipeline) else self.registry.route(exp_type).pipeline_for(stage)
        if name is None:
            if explicit:
                raise BadInputError(f"EXP_TYPE {exp_type} has no stage-{stage} pipeline")
            return None
        try:
            self.registry.pipeline(name, instrument)
        except JwcalError as exc:
            if explicit:
                raise
            self.notes.append(f"stage {stage} for {exp_type} stops here: {exc}")
            return None
        return name

    def _unit(self, stage, path, meta, explicit=False, depends=()):
        exp_type = meta["exposure"]["type"]
        instrument = meta["instrument"]["name"]
        name = self._pipeline_name(stage, exp_type, instrument, explicit)
        if name is None:
            return None
        spec = self.registry.pipeline(name, instrument)
        uid = f"s{stage}:{basename(path)}"
        ints = stage == 2 and Path(path).name.rsplit(".", 1)[0].endswith("_rateints")   # -> _calints
        out = [output_path(path, spec.suffix + ("ints" if ints else ""), self.output_dir)]
        unit = Unit(uid, name, instrument, exp_type, Path(path), stage, meta, depends=list(depends), outputs=out)
        self.units.append(unit)
        return unit

    def _chain(self, unit):
        """Follow an exposure through the later per-exposure stages; return its last unit."""
        if unit is None:
            return []
        current = unit
        while current.stage < min(self.to_stage, 2) and not self.pipeline:
            source = current.outputs[0]
            if current.stage == 1 and self.registry.route(current.exp_type).per_integration:
                # TSO, coronagraphy, AMI: stage 2 calibrates detector1's per-integration product,
                # so stage 1 is not up to date without it
                source = output_path(source, "rateints", self.output_dir)
                current.outputs.append(source)
            nxt = self._unit(current.stage + 1, source, current.meta, depends=[current.id])
            if nxt is None:
                return []
            current = nxt
        return [current] if current.stage == 2 else []

    def _plan_asn(self, association):
        from ..datamodel import read_meta

        level = self.stage or association.level
        done = []
        for product in association.products:
            science = product.by_type("science")
            if not science:
                raise BadInputError(f"{association.path}: product {product.name!r} has no science member")
            first = association.member_path(science[0])
            if not first.exists():
                raise BadInputError(f"{association.path}: member {science[0].expname} does not exist")
            meta = read_meta(first)
            exp_type = (meta.get("exposure") or {}).get("type")
            instrument = (meta.get("instrument") or {}).get("name")
            name = self._pipeline_name(level, exp_type, instrument, explicit=True)
            spec = self.registry.pipeline(name, instrument)
            input_path = first if level == 2 else association.path
            base = Path(product.name)
            unit = Unit(f"s{level}:{product.name}", name, instrument, exp_type, input_path, level, meta,
                        association, product, outputs=[output_path(base, spec.suffix, self.output_dir)])
            self.units.append(unit)
            if level == 2:
                done.append(unit)
        return done

    def _plan_level3(self, stage2_units):
        """Group stage-2 products into level-3 associations and add a stage-3 unit per group."""
        from ..asn import from_list

        groups: dict[tuple, list[Unit]] = {}
        for u in stage2_units:
            if self._pipeline_name(3, u.exp_type, u.instrument, explicit=False) is None:
                continue
            m = u.meta
            key = (m.get("observation", {}).get("program_number"), m.get("observation", {}).get("observation_number"),
                   m.get("target", {}).get("catalog_name"), u.instrument, u.exp_type,
                   m.get("instrument", {}).get("filter"), m.get("instrument", {}).get("pupil"))
            groups.setdefault(key, []).append(u)
        for key, members in sorted(groups.items(), key=lambda kv: str(kv[0])):
            program, obs, _target, instrument, exp_type, filt, pupil = key
            name = level3_product_name(program, obs, instrument, filt, pupil)
            association = from_list([m.outputs[0].name for m in members], product_name=name)
            association.path = self.output_dir / f"{name}_asn.json"
            association.program = str(program or "noprogram")
            pipe = self._pipeline_name(3, exp_type, instrument, explicit=False)
            spec = self.registry.pipeline(pipe, instrument)
            unit = Unit(f"s3:{name}", pipe, instrument, exp_type, association.path, 3, members[0].meta,
                        association, association.products[0], depends=[m.id for m in members],
                        outputs=[output_path(name, spec.suffix, self.output_dir)])
            self.units.append(unit)


def level3_product_name(program, observation, instrument, filt, pupil) -> str:
    """``jw01234-o001_t001_nircam_clear-f200w`` (the manual's level-3 product naming)."""
    elems = sorted({str(v).lower() for v in (filt, pupil) if v and str(v).upper() not in ("N/A", "NONE", "ANY")})
    prog = f"jw{int(program):05d}" if str(program or "").isdigit() else "jw00000"
    obs = f"o{int(observation):03d}" if str(observation or "").isdigit() else "o001"
    return f"{prog}-{obs}_t001_{str(instrument).lower()}_{'-'.join(elems) or 'clear'}"


def plan(paths, registry, pipeline: str | None = None, stage: int | None = None):
    """Single-stage planning (``--stage`` semantics): units and failures."""
    p = Planner(registry, pipeline=pipeline, stage=stage or None, to_stage=stage or 1).plan(paths)
    return p.units, p.failures
