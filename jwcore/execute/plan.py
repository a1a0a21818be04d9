"""From the paths a user gives to units of work: (pipeline, input) pairs.

A raw ramp (Level1b/uncal) goes to stage 1, a ``_rate``/``_rateints`` to stage 2, a level-2
association to stage 2 per product, a level-3 association to stage 3.  The pipeline for a
stage comes from the plugin that registered the input's EXP_TYPE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BadInputError, JwcalError
from ..runner.naming import basename

STAGE_BY_SUFFIX = {"uncal": 1, "ramp": 1, "dark": 1, "rate": 2, "rateints": 2, "cal": 3, "calints": 3, "crf": 3}
RAW_MODELS = {"Level1bModel", "RampModel", "GuiderRawModel"}


@dataclass
class Unit:
    """One pipeline run: a pipeline on an exposure (path) or an association product."""

    pipeline: str
    instrument: str | None
    exp_type: str | None
    input: Path
    stage: int | None
    association: object = None
    product: object = None
    label: str = ""
    depends: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.label or basename(self.input)


@dataclass
class Failure:
    input: str
    message: str


def expand_inputs(paths) -> list[Path]:
    """Files as given; folders contribute their FITS and association files, sorted."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted([*p.glob("*_uncal.fits"), *p.glob("*_asn.json")])
            if not found:
                found = sorted(p.glob("*.fits"))
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


def plan(paths, registry, pipeline: str | None = None, stage: int | None = None):
    """Units of work and the inputs that could not be planned (each with a one-line reason)."""
    from .. import asn as asnmod
    from ..datamodel import read_meta

    units: list[Unit] = []
    failures: list[Failure] = []
    for path in expand_inputs(paths):
        try:
            if asnmod.is_association(path):
                association = asnmod.load(path)
                units.extend(_plan_asn(association, registry, pipeline, stage))
                continue
            meta = read_meta(path)
            exp_type = (meta.get("exposure") or {}).get("type")
            instrument = (meta.get("instrument") or {}).get("name")
            if not exp_type or not instrument:
                raise BadInputError(f"{path}: missing EXP_TYPE or INSTRUME keyword; not a JWST exposure")
            st = stage or stage_of(path, meta.get("model_type"))
            name = pipeline or registry.route(exp_type).pipeline_for(st)
            if name is None:
                raise BadInputError(f"{path}: EXP_TYPE {exp_type} has no stage-{st} pipeline")
            registry.pipeline(name, instrument)   # fail early if unknown
            units.append(Unit(name, instrument, exp_type, path, st))
        except JwcalError as exc:
            failures.append(Failure(str(path), str(exc)))
    return units, failures


def _plan_asn(association, registry, pipeline, stage):
    from ..datamodel import read_meta

    units = []
    level = stage or association.level
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
        name = pipeline or registry.route(exp_type).pipeline_for(level)
        if name is None:
            raise BadInputError(f"{association.path}: EXP_TYPE {exp_type} has no stage-{level} pipeline")
        registry.pipeline(name, instrument)
        input_path = first if level == 2 else association.path
        units.append(Unit(name, instrument, exp_type, input_path, level, association, product, label=product.name))
    return units
