"""The ``skymatch`` step: measure (and optionally subtract) the sky of each exposure.

Writes ``meta.background.level`` (the sky), ``.subtracted`` and ``.method`` of every member
and ``meta.cal_step.skymatch``; with ``subtract=True`` the level is also taken out of SCI.
The input library is not modified: the result is a :class:`LibraryView` carrying these
changes, applied whenever a later step opens a member (see ``jwcore.steps.resample.libview``).
Only the exposure outlines are kept in memory; pixels are read one exposure at a time.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ...errors import BadInputError, ParameterError
from ...runner import Param, Step
from ..resample.libview import LibraryView, is_library, member_meta

SKYSTATS = ("median", "midpt", "mean", "mode")


class SkyMatchStep(Step):
    """Measure, match and optionally subtract the sky of every member of a library (see the
    module docstring); members whose sky cannot be measured are SKIPPED."""

    name = "skymatch"
    class_alias = "SkyMatchStep"
    description = "Measure sky levels of exposures and match them in the overlaps"
    spec = (
        Param("skymethod", str, "match", "local, global, match, global+match or user (localmin, globalmin, "
              "globalmin+match also accepted)",
              choices=("local", "global", "match", "global+match", "user", "localmin", "globalmin", "globalmin+match")),
        Param("match_down", bool, True, "Match to the lowest sky (else the highest)"),
        Param("subtract", bool, False, "Subtract the computed sky from SCI"),
        Param("skylist", str, None, "File of 'image sky' pairs for skymethod=user", nullable=True),
        Param("stepsize", int, None, "Max separation (pixels) of outline vertices (None: corners only)",
              nullable=True),
        Param("skystat", str, "mode", "Sky statistic", choices=SKYSTATS),
        Param("dqbits", str, "~DO_NOT_USE+NON_SCIENCE", "DQ bits of usable pixels (jwst good-bits syntax)",
              nullable=True),
        Param("lower", float, None, "Lowest usable pixel value", nullable=True),
        Param("upper", float, None, "Highest usable pixel value", nullable=True),
        Param("nclip", int, 5, "Sigma-clipping iterations"),
        Param("lsigma", float, 4.0, "Lower clipping limit (sigma)"),
        Param("usigma", float, 4.0, "Upper clipping limit (sigma)"),
        Param("binwidth", float, 0.1, "Histogram bin width for mode/midpt (sigma)"),
        Param("in_memory", bool, True, "Accepted for jwst compatibility (jwcal keeps inputs on disk)"),
    )
    reference_file_types = ()

    def process(self, model, refs):
        from .skymatch import normalize_method

        if not is_library(model):
            raise BadInputError("skymatch needs an association (a library of exposures)")
        if self.nclip < 0 or self.lsigma < 0 or self.usigma < 0 or self.binwidth < 0:
            raise ParameterError("nclip, lsigma, usigma and binwidth must not be negative")
        method = normalize_method(self.skymethod)
        view = LibraryView(model)
        if method == "user":
            self._user_sky(view)
        else:
            self._match(view, method)
        return view

    # -- measured sky ----------------------------------------------------------------------
    def _match(self, view, method):
        from ..resample.coadd import interpret_good_bits
        from .skymatch import SkyMember, bounding_polygon, match_sky
        from .skystats import SkyStats

        dqbits = interpret_good_bits(self.dqbits)
        skystat = SkyStats(self.skystat, lower=self.lower, upper=self.upper, nclip=self.nclip, lsig=self.lsigma,
                           usig=self.usigma, binwidth=self.binwidth)
        keys, members = [], []
        for i in range(len(view)):
            meta = member_meta(view, i)
            level = self._initial_level(meta)
            wcs = meta.get("wcs")
            if wcs is None:
                raise BadInputError(f"{meta.get('filename')}: no WCS (run assign_wcs first)")
            shape = self._shape(view, i, meta)
            members.append(SkyMember(i, str(meta.get("filename") or i), bounding_polygon(wcs, shape, self.stepsize),
                                     shape, sky=level if self.subtract else 0.0))
            keys.append(view.summary(i, meta)["group_id"])
            del meta, wcs

        @contextmanager
        def open_member(i, offsets):
            with view.open(i) as model:
                data = model.data
                if data.shape != members[i].shape:
                    raise BadInputError(f"{model.meta.filename}: data shape {data.shape} != {members[i].shape}")
                if offsets:
                    data = np.array(data, dtype=np.float32, copy=True)
                    for off in offsets:   # as ``image -= sky`` (numpy promotion rules)
                        np.subtract(data, off, out=data)
                mask = np.isfinite(data)
                if dqbits is not None:
                    from astropy.nddata.bitmask import bitfield_to_boolean_mask

                    from ... import dq as dqflags

                    mask &= bitfield_to_boolean_mask(model.dq, dqbits, good_mask_value=True, dtype=bool,
                                                     flag_name_map=dqflags.PIXEL)
                yield data, mask, model.meta.wcs

        offsets = match_sky(members, keys, open_member, skystat, method=method,
                            match_down=self.match_down, subtract=self.subtract)
        for m, offs in zip(members, offsets):
            if m.valid:
                view.set_meta(m.index, "background.method", method)
                # the value keeps its type (numpy float64 or float): later arithmetic with it
                # (resample subtracting it, outlier detection adding it) then rounds as jwst's
                view.set_meta(m.index, "background.level", m.sky)
                view.set_meta(m.index, "background.subtracted", bool(self.subtract))
                for off in offs:
                    view.subtract(m.index, off)
                self.log.info("%s: sky background %.6g", m.sky_id, m.sky)
            else:
                self.log.warning("%s: sky background could not be computed", m.sky_id)
                self.set_member_status("SKIPPED", m.index)

    def _initial_level(self, meta) -> float:
        bkg = meta.get("background") or {}
        level, subtracted = bkg.get("level"), bkg.get("subtracted")
        name = meta.get("filename")
        if subtracted is None:
            if level is not None:
                raise BadInputError(f"{name}: background level is set but 'subtracted' is undefined")
            return 0.0
        if level is None:
            raise BadInputError(f"{name}: background was subtracted but its level is undefined")
        if bool(subtracted) != self.subtract:
            raise BadInputError(f"{name}: subtract={self.subtract} disagrees with the background already "
                                f"{'subtracted' if subtracted else 'measured'} in the file")
        return float(level)

    @staticmethod
    def _shape(view, i, meta):
        sub = meta.get("subarray") or {}
        if sub.get("xsize") and sub.get("ysize"):
            return (int(sub["ysize"]), int(sub["xsize"]))
        with view.open(i) as model:
            return tuple(model.data.shape)

    # -- user sky ---------------------------------------------------------------------------
    def _user_sky(self, view):
        from ...runner.naming import basename

        if not self.skylist:
            raise ParameterError("skymethod='user' needs a skylist file")
        table = {}
        for line in Path(self.skylist).read_text().splitlines():
            parts = line.replace(",", " ").split()
            if len(parts) < 2 or parts[0].startswith("#"):
                continue
            key = basename(Path(parts[0]).name)
            if key in table:
                raise BadInputError(f"{self.skylist}: {parts[0]} is listed twice")
            table[key] = float(parts[1])
        if len(table) != len(view):
            raise BadInputError(f"{self.skylist}: {len(table)} sky values for {len(view)} images")
        for i in range(len(view)):
            meta = member_meta(view, i)
            key = basename(str(meta.get("filename") or ""))
            if key not in table:
                raise BadInputError(f"{self.skylist}: no sky value for {key}")
            sky = table[key]
            view.set_meta(i, "background.level", sky)
            view.set_meta(i, "background.subtracted", bool(self.subtract))
            view.set_meta(i, "background.method", "user")
            if self.subtract:
                view.subtract(i, sky)
