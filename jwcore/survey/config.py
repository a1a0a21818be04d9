"""The survey configuration: one TOML file for a whole survey.

A survey file is an ordinary ``jwcal run`` parameter file (top-level pipeline parameters and
``[steps.<name>]`` tables, including step insertions) plus a ``[survey]`` table that says
*what* to process and *where*::

    [survey]
    name = "phangs-demo"               # used by `jwcal release`
    raw = ["raw"]                      # folders searched (recursively) for exposures
    output = "products"                # products go to <output>/<target>/<instrument>/
    refs = "raw/refs"                  # local reference store (default: --refs / JWCAL_REFS)
    targets = ["NGC0628"]              # TARGPROP values (default: every target found)
    instruments = ["nircam", "miri"]   # default: every instrument found
    filters = ["F200W", "F770W"]       # default: every filter found
    to_stage = 3                       # or stage = 2 (only that stage); default: up to 3
    executor = "serial"                # jwcal run's --executor and --jobs
    jobs = 2

    [survey.instrument.nircam]         # parameters for one instrument only (same form as
    [survey.instrument.nircam.steps.nircam_destripe]   #  the top level; merged over it)
    insert_after = "flat_field"

    [steps.jump]                       # every instrument
    rejection_threshold = 5

Relative paths are relative to the survey file.  Each exposure found under ``raw`` is taken
at its earliest stage (``_uncal`` before ``_rate`` before ``_cal``), selected by its TARGPROP,
INSTRUME and FILTER keywords (compared without case, spaces, ``-`` or ``_``), and the
selection runs as one ``jwcal run`` per (target, instrument).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BadInputError, ParameterError

__all__ = ["SurveyConfig", "SurveyGroup", "parse_survey", "select_groups", "norm"]

SURVEY_KEYS = {"name", "raw", "output", "refs", "targets", "instruments", "filters", "stage", "to_stage",
               "executor", "jobs", "instrument"}
STAGE_ORDER = {"uncal": 1, "rate": 2, "rateints": 2, "cal": 3}


def norm(value) -> str:
    """``"NGC 0628"`` / ``"ngc_0628"`` -> ``"NGC0628"`` (how names are compared)."""
    return "".join(ch for ch in str(value or "").upper() if ch not in " -_")


def slug(value) -> str:
    """A folder-safe lower-case name (``"NGC 628"`` -> ``"ngc628"``)."""
    out = "".join(ch for ch in str(value or "").lower() if ch.isalnum() or ch in "-+.")
    return out or "notarget"


@dataclass
class SurveyConfig:
    path: Path | None
    name: str = "survey"
    raw: list = field(default_factory=list)
    output: Path = Path(".")
    refs: Path | None = None
    targets: tuple = ()
    instruments: tuple = ()
    filters: tuple = ()
    stage: int | None = None
    to_stage: int = 3
    executor: str | None = None
    jobs: int | None = None
    per_instrument: dict = field(default_factory=dict)   # INSTRUMENT -> config layer
    parameters: dict = field(default_factory=dict)        # the file without [survey]

    def config_for(self, instrument: str) -> dict:
        """The parameter config of one instrument: the top level merged with its own table."""
        from ..runner.config import merge

        return merge(self.parameters, self.per_instrument.get(str(instrument).upper(), {}))


@dataclass
class SurveyGroup:
    target: str
    instrument: str
    inputs: list
    output_dir: Path


def _names(value, key) -> tuple:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ParameterError(f"[survey] {key} must be a name or a list of names")


def parse_survey(data: dict, path=None) -> SurveyConfig | None:
    """The :class:`SurveyConfig` of a loaded parameter file, or ``None`` if it has no
    ``[survey]`` table.  Unknown keys are errors."""
    if "survey" not in data:
        return None
    table = data["survey"]
    if not isinstance(table, dict):
        raise ParameterError("'survey' must be a table ([survey])")
    unknown = sorted(set(table) - SURVEY_KEYS)
    if unknown:
        close = difflib.get_close_matches(unknown[0], sorted(SURVEY_KEYS), n=2)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ParameterError(f"[survey] has no key {unknown[0]!r}{hint}")
    base = Path(path).resolve().parent if path else Path.cwd()

    def where(p):
        p = Path(str(p)).expanduser()
        return p if p.is_absolute() else base / p

    raw = [where(p) for p in _names(table.get("raw"), "raw")]
    per = {}
    for inst, layer in (table.get("instrument") or {}).items():
        if not isinstance(layer, dict):
            raise ParameterError(f"[survey.instrument.{inst}] must be a table of parameters")
        per[str(inst).upper()] = layer
    stage = table.get("stage")
    to_stage = table.get("to_stage", stage or 3)
    for key, val in (("stage", stage), ("to_stage", to_stage)):
        if val is not None and val not in (1, 2, 3):
            raise ParameterError(f"[survey] {key} must be 1, 2 or 3, not {val!r}")
    jobs = table.get("jobs")
    if jobs is not None and (not isinstance(jobs, int) or jobs < 1):
        raise ParameterError("[survey] jobs must be a positive integer")
    executor = table.get("executor")
    if executor is not None and executor not in ("processes", "serial", "dask"):
        raise ParameterError(f"[survey] executor must be processes, serial or dask, not {executor!r}")
    params = {k: v for k, v in data.items() if k != "survey"}
    return SurveyConfig(
        path=Path(path) if path else None, name=str(table.get("name", "survey")), raw=raw,
        output=where(table.get("output", ".")), refs=where(table["refs"]) if table.get("refs") else None,
        targets=_names(table.get("targets"), "targets"), instruments=_names(table.get("instruments"), "instruments"),
        filters=_names(table.get("filters"), "filters"), stage=stage, to_stage=to_stage, executor=executor,
        jobs=jobs, per_instrument=per, parameters=params)


def _product_suffix(path: Path) -> str | None:
    stem = path.name[:-5] if path.name.endswith(".fits") else None
    if stem is None:
        return None
    suffix = stem.rsplit("_", 1)[-1].lower()
    return suffix if suffix in STAGE_ORDER else None


def find_exposures(folders) -> list[Path]:
    """Exposure files under ``folders`` (recursively), each at its earliest stage."""
    from ..runner.naming import basename

    best: dict[str, tuple[int, Path]] = {}
    for folder in map(Path, folders):
        if folder.is_file():
            candidates = [folder]
        elif folder.is_dir():
            candidates = sorted(folder.rglob("*.fits"))
        else:
            raise BadInputError(f"[survey] raw: {folder} does not exist")
        for p in candidates:
            suffix = _product_suffix(p)
            if suffix is None:
                continue
            key = basename(p)
            rank = STAGE_ORDER[suffix]
            if key not in best or rank < best[key][0]:
                best[key] = (rank, p)
    return sorted(p for _, p in best.values())


def select_groups(survey: SurveyConfig, inputs=None, output=None) -> list[SurveyGroup]:
    """The (target, instrument) groups to run: exposures found under ``survey.raw`` (or the
    given ``inputs``), filtered by the survey's targets, instruments and filters."""
    from ..datamodel import read_meta

    files = find_exposures(inputs or survey.raw)
    if not files:
        raise BadInputError(f"no exposures (_uncal/_rate/_cal FITS) found under {', '.join(map(str, inputs or survey.raw)) or 'nothing'}")
    want_t = {norm(t) for t in survey.targets}
    want_i = {norm(i) for i in survey.instruments}
    want_f = {norm(f) for f in survey.filters}
    root = Path(output) if output else survey.output
    groups: dict[tuple, SurveyGroup] = {}
    for p in files:
        meta = read_meta(p)
        target = (meta.get("target") or {}).get("catalog_name") or (meta.get("target") or {}).get("proposer_name") or ""
        inst = (meta.get("instrument") or {}).get("name") or ""
        filt = (meta.get("instrument") or {}).get("filter") or ""
        if want_t and norm(target) not in want_t:
            continue
        if want_i and norm(inst) not in want_i:
            continue
        if want_f and norm(filt) not in want_f:
            continue
        key = (norm(target), str(inst).upper())
        if key not in groups:
            groups[key] = SurveyGroup(str(target), str(inst).upper(), [],
                                      root / slug(target) / str(inst).lower())
        groups[key].inputs.append(p)
    if not groups:
        raise BadInputError("the survey selection (targets/instruments/filters) matches none of the "
                            f"{len(files)} exposure(s) found")
    return [groups[k] for k in sorted(groups)]
