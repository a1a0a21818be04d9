"""The ``assign_wcs`` step.

The WCS itself comes from the instrument plugins through the ``jwcal_build_wcs`` hook (the
imaging builders use :mod:`jwcore.wcs.imaging`).  The step stores it in ``meta.wcs`` (saved
in the ASDF extension, where stdatamodels reads it back), writes ``S_REGION`` and, for a
celestial 2-D WCS with ``sip_approx``, the FITS TAN-SIP approximation into ``meta.wcsinfo``
(the SCI header's CTYPE/CRPIX/CRVAL/CD/A_p_q/B_p_q/AP_p_q/BP_p_q), as jwst 3.0 does for
imaging modes.
"""

from __future__ import annotations

import logging

from ...errors import ParameterError
from ...runner import Param, SkipStep
from ...runner.step import Step

log = logging.getLogger("jwcal.step.assign_wcs")


def is_celestial_image_wcs(wcs) -> bool:
    """True for a 2-pixel-axis WCS whose output frame is a celestial (sky) frame."""
    from gwcs import coordinate_frames as cf

    return wcs.forward_transform.n_inputs == 2 and isinstance(wcs.output_frame, cf.CelestialFrame)


class AssignWcsStep(Step):
    name = "assign_wcs"
    class_alias = "AssignWcsStep"
    description = "Attach the exposure's WCS (gwcs), S_REGION and a FITS SIP approximation"
    spec = (
        Param("sip_approx", bool, True, "Write a FITS TAN-SIP approximation of the WCS (imaging)"),
        Param("sip_max_pix_error", float, 0.01, "Max forward error of the SIP fit (pixels)"),
        Param("sip_degree", int, None, "Forward SIP degree (None: lowest that fits)", nullable=True),
        Param("sip_max_inv_pix_error", float, 0.01, "Max inverse error of the SIP fit (pixels)"),
        Param("sip_inv_degree", int, None, "Inverse SIP degree (None: lowest that fits)", nullable=True),
        Param("sip_npoints", int, 12, "Grid points per axis for the SIP fit"),
        Param("slit_y_low", float, -0.55, "Lower slit edge (NIRSpec; unused for imaging)"),
        Param("slit_y_high", float, 0.55, "Upper slit edge (NIRSpec; unused for imaging)"),
        Param("nrs_ifu_slice_wcs", bool, False, "NIRSpec IFU slice WCS (unused for imaging)"),
    )
    # jwst's list: the imaging distortion/filteroffset, and NIRSpec's optical model.  Which of
    # them an exposure reads is the instrument plugin's answer (``jwcal_wcs_reference_types``);
    # the builders say when a missing one matters (FGS has no filter offsets).
    reference_file_types = ("distortion", "filteroffset", "camera", "collimator", "disperser",
                            "fore", "fpa", "ote", "wavelengthrange")
    optional_references = reference_file_types
    default_references = ("distortion", "filteroffset")

    def wanted_references(self, model) -> tuple:
        """The reference types the instrument plugin names for this exposure's WCS
        (``jwcal_wcs_reference_types``), else ``distortion`` and ``filteroffset``; a name the
        step does not declare is a ParameterError."""
        wanted = self.pm.hook.jwcal_wcs_reference_types(meta=model.meta)
        if wanted is None:
            return self.default_references
        unknown = [r for r in wanted if r not in self.reference_file_types]
        if unknown:
            raise ParameterError(f"a plugin asks assign_wcs for reference type(s) {', '.join(unknown)}, "
                                 f"which it does not know")
        return tuple(wanted)

    def process(self, model, refs):
        from ...wcs.fitsapprox import apply_sip_keywords, s_region, sip_keywords

        if model.model_type not in ("ImageModel", "CubeModel"):
            raise SkipStep(f"assign_wcs handles ImageModel and CubeModel inputs, not {model.model_type}")
        for p in ("sip_degree", "sip_inv_degree"):
            if getattr(self, p) is not None and not 1 <= getattr(self, p) <= 6:
                raise ParameterError(f"{p} must be between 1 and 6")
        wcs = self.pm.hook.jwcal_build_wcs(model=model, references=refs)
        if wcs is None:
            raise SkipStep(f"no plugin builds a WCS for {model.meta.instrument.name} {model.meta.exposure.type}")
        model.meta.wcs = wcs
        if not is_celestial_image_wcs(wcs):
            model.meta.wcsinfo.s_region = None
            return model
        region = s_region(wcs, model.data.shape)
        if region is not None:
            model.meta.wcsinfo.s_region = region
            log.info("assign_wcs updated S_REGION to %s", region)
        if self.sip_approx:
            info = model.meta.wcsinfo
            try:
                keywords = sip_keywords(
                    wcs, crpix=[info.crpix1, info.crpix2], max_pix_error=self.sip_max_pix_error,
                    degree=self.sip_degree, max_inv_pix_error=self.sip_max_inv_pix_error,
                    inv_degree=self.sip_inv_degree, npoints=self.sip_npoints)
            except (ValueError, RuntimeError) as exc:
                log.warning("Failed to update meta.wcsinfo with a FITS SIP approximation: %s", exc)
            else:
                apply_sip_keywords(model.tree["meta"].setdefault("wcsinfo", {}), keywords)
        return model
