"""A declarative base for instrument plugins.

An instrument plugin mostly *declares*: which EXP_TYPEs it handles and the pipelines per
stage, its pipelines' step lists, the selection keywords of each reference type, and extra
steps or commands.  :class:`InstrumentPlugin` turns those declarations into hook
implementations; anything more (a WCS builder, CLI commands) is an ordinary ``@hookimpl``
method on a subclass.

Example (``jwcal_miri/plugin.py``)::

    plugin = InstrumentPlugin(
        instrument="MIRI",
        exptypes={"MIR_IMAGE": ("detector1", "image2", "image3")},
        pipelines=[PipelineSpec("detector1", ("dq_init", "jump", "ramp_fit"), instrument="MIRI", stage=1,
                                suffix="rate")],
        match_keys={"flat": ("meta.instrument.detector", "meta.instrument.filter")},
        default_keys=("meta.instrument.detector",),
    )

and in ``pyproject.toml``: ``[project.entry-points."jwcal.plugins"] miri = "jwcal_miri.plugin:plugin"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .hookspecs import hookimpl


@dataclass(eq=False)
class InstrumentPlugin:
    instrument: str
    exptypes: dict = field(default_factory=dict)        # EXP_TYPE -> (stage1, stage2, stage3)
    pipelines: list = field(default_factory=list)       # PipelineSpec, instrument-specific
    match_keys: dict = field(default_factory=dict)      # reftype -> metadata paths
    default_keys: tuple = ("meta.instrument.detector",)
    steps: list = field(default_factory=list)           # the instrument's own Step classes
    detectors: list = field(default_factory=list)       # jwcore.sim.detector.DetectorSpec
    row_keys: dict = field(default_factory=dict)        # reftype or (reftype, EXP_TYPE) -> RowKeys
    not_applicable: frozenset = frozenset()            # reftypes CRDS answers N/A for this instrument
    imaging_exptypes: frozenset = frozenset()          # EXP_TYPEs whose WCS is the imaging gwcs
    filter_offset_match: dict | None = None            # filteroffset row match: column -> meta path
    filter_offset_required: bool = False               # a matching filter offset must exist
    per_integration: frozenset = frozenset()           # EXP_TYPEs whose stage 2 takes _rateints

    @hookimpl
    def jwcal_register_detectors(self, register):
        for spec in self.detectors:
            register(spec)

    @hookimpl
    def jwcal_register_exptypes(self, register):
        for exp_type, (s1, s2, s3) in self.exptypes.items():
            register(exp_type, self.instrument, stage1=s1, stage2=s2, stage3=s3,
                     per_integration=exp_type in self.per_integration)

    @hookimpl
    def jwcal_register_pipelines(self, register):
        for spec in self.pipelines:
            register(spec)

    @hookimpl
    def jwcal_register_steps(self, register):
        for cls in self.steps:
            register(cls)

    @hookimpl
    def jwcal_reference_match_keys(self, instrument, reftype):
        if instrument != self.instrument:
            return None
        return self.match_keys.get(reftype, self.default_keys)

    @hookimpl
    def jwcal_reference_row_keys(self, instrument, reftype, exp_type):
        if instrument != self.instrument:
            return None
        keys = self.row_keys.get((reftype, str(exp_type or "").upper()), self.row_keys.get(reftype))
        return None if keys is None else tuple(keys)

    @hookimpl
    def jwcal_select_reference(self, reftype, meta):
        """``N/A`` for the reference types that do not apply to this instrument (as CRDS)."""
        if reftype in self.not_applicable and str(meta.get("instrument.name") or "").upper() == self.instrument:
            return "N/A"
        return None

    @hookimpl
    def jwcal_build_wcs(self, model, references):
        """The imaging gwcs (distortion, filter offset, subarray, velocity aberration,
        pointing) for this instrument's ``imaging_exptypes``."""
        meta = model.meta
        if str(meta.instrument.name or "").upper() != self.instrument:
            return None
        if str(meta.exposure.type or "").upper() not in self.imaging_exptypes:
            return None
        from .wcs.builders import imaging_wcs_from_references

        return imaging_wcs_from_references(model, references, offset_match=self.filter_offset_match,
                                           offset_required=self.filter_offset_required)
