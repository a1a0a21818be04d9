"""Drizzle exposures onto a mosaic grid, one at a time, into output-sized accumulators.

:class:`Coadd` holds only output-sized arrays (SCI, WHT, CON, and for the variances a
weighted sum and a weight each): exposures are added one after another and can be closed
as soon as they are added, so memory grows with the mosaic, not with the number of inputs.
The drizzling itself is the ``drizzle`` package's (``Drizzle.add_image``), the standard
kernel code jwst uses; the weighting and variance propagation follow jwst 3.0:

* the weight of an input pixel is 1/VAR_RNOISE (``ivm``) or the measurement (else exposure)
  time (``exptime``), zero where the DQ has a bit outside ``good_bits``;
* each variance array is drizzled as sqrt(var) with the same weights and kernel, squared,
  and combined over inputs with weights w = 1/VAR_RNOISE drizzled (ivm) or the exposure time:
  var = sum(var_i w_i^2) / (sum w_i)^2, divided by the pixel-scale ratio squared.  The three
  planes of an exposure are drizzled one after another into one reused output/weight pair
  and each is folded into its accumulator (in row chunks) before the next is drizzled;
* ERR = sqrt(VAR_RNOISE + VAR_POISSON + VAR_FLAT) (``compute_err="from_var"``), or the
  drizzled ERR of the inputs divided by the pixel-scale ratio (``"driz_err"``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ... import dq as dqflags
from .resample_wcs import bbox_intervals, calc_pixmap, resample_range

__all__ = ["KERNELS", "good_pixel_mask", "inverse_variance", "driz_weight", "Coadd", "InputImage",
           "VARIANCE_ARRAYS", "interpret_good_bits"]

KERNELS = ("square", "gaussian", "point", "turbo", "lanczos2", "lanczos3")
VARIANCE_ARRAYS = ("var_rnoise", "var_flat", "var_poisson")


def interpret_good_bits(good_bits):
    """An integer (or ``None``) from jwst's good-bits syntax: an int, ``"4,8"``, ``"4+8"``,
    mnemonics (``"JUMP_DET, DROPOUT"``), ``"~DO_NOT_USE+NON_SCIENCE"`` (all bits except)."""
    from astropy.nddata.bitmask import interpret_bit_flags

    return interpret_bit_flags(good_bits, flag_name_map=dqflags.PIXEL)


def good_pixel_mask(dq, good_bits) -> np.ndarray:
    """True where ``dq`` has no bit outside ``good_bits`` (``None``: every pixel is good)."""
    from astropy.nddata.bitmask import bitfield_to_boolean_mask

    return bitfield_to_boolean_mask(dq, good_bits, good_mask_value=1, dtype=np.uint8,
                                    flag_name_map=dqflags.PIXEL)


def inverse_variance(var, shape) -> np.ndarray:
    """1/var with 0 where that is not finite; ones when ``var`` is missing or mis-shaped."""
    if var is not None and var.shape == tuple(shape):
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = 1.0 / var
        inv[~np.isfinite(inv)] = 0
        return inv
    return np.ones(shape, dtype=np.float32)


def measurement_time(exposure_time, measurement_time):
    """(time used for ``exptime`` weighting, whether it is the measurement time)."""
    if measurement_time is None:
        return exposure_time, False
    return measurement_time, True


def driz_weight(dq, good_bits, weight_type=None, var_rnoise=None, exptime=None) -> np.ndarray:
    """The float32 drizzle weight map of one exposure (``weight_type`` ivm, exptime or None)."""
    mask = good_pixel_mask(dq, good_bits)
    if weight_type == "ivm":
        out = inverse_variance(var_rnoise, dq.shape) * mask
    elif weight_type == "exptime":
        out = np.float32(exptime) * mask
    elif weight_type is None:
        out = mask
    else:
        raise ValueError(f"weight_type must be 'ivm', 'exptime' or None, not {weight_type!r}")
    return out.astype(np.float32)


def _row_chunks(ny, nx, target=1 << 18):
    """Row slices of about ``target`` pixels each (bounded temporaries for per-pixel work)."""
    step = max(1, target // max(nx, 1))
    return [slice(r, min(ny, r + step)) for r in range(0, ny, step)]


@dataclass
class InputImage:
    """What :meth:`Coadd.add` needs from one exposure (arrays may be ``None`` when unused)."""

    data: np.ndarray
    dq: np.ndarray
    wcs: object
    exposure_time: float
    measurement_time: float | None = None
    var_rnoise: np.ndarray | None = None
    var_poisson: np.ndarray | None = None
    var_flat: np.ndarray | None = None
    err: np.ndarray | None = None
    group_id: str = ""
    start_time: float | None = None
    end_time: float | None = None
    duration: float | None = None
    level: float | None = None         # meta.background.level
    subtracted: bool | None = False    # meta.background.subtracted
    name: str = ""

    @classmethod
    def from_model(cls, model, *, variances=True, err=False, group_id="") -> "InputImage":
        meta = model.meta
        get = (lambda n: getattr(model, n) if model.has(n) else None)
        return cls(
            data=model.data, dq=model.dq, wcs=meta.wcs,
            exposure_time=meta.get("exposure.exposure_time"),
            measurement_time=meta.get("exposure.measurement_time"),
            var_rnoise=get("var_rnoise"), var_poisson=get("var_poisson") if variances else None,
            var_flat=get("var_flat") if variances else None, err=get("err") if err else None,
            group_id=group_id, start_time=meta.get("exposure.start_time"), end_time=meta.get("exposure.end_time"),
            duration=meta.get("exposure.duration"), level=meta.get("background.level"),
            subtracted=meta.get("background.subtracted"), name=str(meta.get("filename") or ""))


@dataclass
class _Times:
    exposure_time: float = 0.0
    measurement_time: float = 0.0
    duration: float = 0.0
    starts: list = field(default_factory=list)
    ends: list = field(default_factory=list)
    measured: list = field(default_factory=list)


class Coadd:
    """Accumulate drizzled exposures on the grid of ``output_wcs`` (a gwcs with array_shape).

    ``pixel_scale`` (arcsec) and ``pixel_scale_ratio`` (output / input) are the mosaic's.
    ``n_inputs`` sizes the context (CON) array: one int32 plane per 32 inputs.
    ``compute_err``: ``"from_var"``, ``"driz_err"`` or ``None``.
    """

    def __init__(self, output_wcs, *, pixel_scale, pixel_scale_ratio=1.0, n_inputs=None, kernel="square",
                 pixfrac=1.0, fillval="NAN", weight_type="ivm", good_bits=0, enable_ctx=True,
                 enable_var=True, compute_err=None, propagate_dq=False, pixmap_stepsize=1, pixmap_order=1):
        from drizzle.resample import Drizzle

        if kernel not in KERNELS:
            raise ValueError(f"kernel must be one of {', '.join(KERNELS)}, not {kernel!r}")
        if weight_type not in ("ivm", "exptime", None):
            raise ValueError(f"weight_type must be 'ivm' or 'exptime', not {weight_type!r}")
        self.wcs = output_wcs
        self.shape = tuple(output_wcs.array_shape)
        if not np.prod(self.shape):
            raise ValueError(f"invalid output shape {self.shape}")
        self.pixel_scale = float(pixel_scale)
        self.pixel_scale_ratio = pixel_scale_ratio
        self.kernel, self.pixfrac, self.fillval = kernel, pixfrac, fillval
        self.weight_type, self.good_bits = weight_type, good_bits
        self.enable_ctx, self.propagate_dq = enable_ctx, propagate_dq
        self.compute_err = compute_err
        self.enable_var = enable_var or compute_err == "from_var"
        self.pixmap_stepsize, self.pixmap_order = pixmap_stepsize, pixmap_order
        self._driz = Drizzle(kernel=kernel, fillval=fillval, out_shape=self.shape, begin_ctx_id=0,
                             max_ctx_id=None if n_inputs is None else max(n_inputs - 1, 0),
                             disable_ctx=not enable_ctx)
        self._driz_err = (Drizzle(kernel=kernel, fillval=fillval, out_shape=self.shape, disable_ctx=True)
                          if compute_err == "driz_err" else None)
        self._var = ({n: {"wsum": np.full(self.shape, np.nan, np.float32), "wt": np.zeros(self.shape, np.float32)}
                      for n in VARIANCE_ARRAYS} if self.enable_var else None)
        self._scratch: dict = {}    # reused work planes of the variance drizzles (freed by finalize)
        self._times = _Times()
        self._groups: list = []
        self.n_added = 0

    # -- adding -------------------------------------------------------------------------
    def pixmap(self, image: InputImage) -> np.ndarray:
        return calc_pixmap(image.wcs, self.wcs, image.data.shape, stepsize=self.pixmap_stepsize,
                           order=self.pixmap_order)

    def add(self, image: InputImage, pixmap=None) -> None:
        """Drizzle one exposure (background level subtracted if not yet subtracted)."""
        data = image.data
        if data.ndim != 2:
            raise ValueError(f"{image.name or 'input'} is not a 2-D image")
        if pixmap is None:
            pixmap = self.pixmap(image)
        t, _ = measurement_time(image.exposure_time, image.measurement_time)
        weight = driz_weight(image.dq, self.good_bits, self.weight_type, image.var_rnoise, t)
        if not image.subtracted and image.level is not None:
            data = data - image.level
        xmin, xmax, ymin, ymax = resample_range(data.shape, bbox_intervals(image.wcs))
        kw = dict(exptime=image.exposure_time, pixmap=pixmap, pixel_scale_ratio=self.pixel_scale_ratio,
                  iscale=1.0, weight_map=weight, wht_scale=1.0, pixfrac=self.pixfrac, in_units="cps",
                  xmin=xmin, xmax=xmax, ymin=ymin, ymax=ymax)
        if self.propagate_dq:
            self._driz.add_image(data, dq=image.dq, **kw)
        else:
            self._driz.add_image(data, **kw)
        if image.group_id not in self._groups:
            self._update_time(image)
            self._groups.append(image.group_id)
        if self._driz_err is not None:
            self._driz_err.add_image(image.err, **kw)
        if self.enable_var:
            self._add_variances(image, kw)
        self.n_added += 1

    def _plane(self, key, shape):
        """A reused float32 work plane (its contents are whatever the last user left)."""
        arr = self._scratch.get(key)
        if arr is None or arr.shape != tuple(shape):
            self._scratch[key] = arr = np.empty(shape, np.float32)
        return arr

    def _drizzle_variance(self, var, kw):
        """sqrt(var) drizzled with the exposure's weights and squared: a reused output-sized
        plane, valid until the next call."""
        from drizzle.resample import Drizzle

        out_img, out_wht = self._plane("out_img", self.shape), self._plane("out_wht", self.shape)
        out_img.fill(np.nan)     # as a fresh Drizzle output with fillval NaN
        out_wht.fill(0)
        d = Drizzle(kernel=self.kernel, fillval=np.nan, disable_ctx=True, out_img=out_img, out_wht=out_wht)
        d.add_image(data=np.sqrt(var, out=self._plane("sqrt_var", var.shape)), **kw)
        return np.square(out_img, out=out_img)

    def _add_variances(self, image: InputImage, kw):
        names = [n for n in VARIANCE_ARRAYS
                 if (v := getattr(image, n)) is not None and v.size and v.shape == image.data.shape]
        if self.weight_type == "ivm":
            if "var_rnoise" not in names:
                return      # no weights (zero everywhere): nothing is accumulated
            names.remove("var_rnoise")
            names.insert(0, "var_rnoise")    # its drizzled plane gives the weights
            weight = None
        else:   # exptime (jwst weights the variances by the exposure time for None as well)
            t, _ = measurement_time(image.exposure_time, image.measurement_time)
            weight = np.asarray(t)     # a 0-d array: promotes as a full plane of t would
        for name in names:
            var = self._drizzle_variance(getattr(image, name), kw)
            if weight is None:
                weight = self._ivm_weight(var)
            self._fold_variance(self._var[name], var, weight)

    def _ivm_weight(self, rn):
        """1/(drizzled VAR_RNOISE) where that is positive and finite, else 0 (float32: the
        reciprocals are float32 numbers, so widening them later gives jwst's float64 plane)."""
        weight = self._plane("weight", self.shape)
        weight.fill(0)
        for r in _row_chunks(self.shape[0], self.shape[1]):
            rc = rn[r]
            np.reciprocal(rc, out=weight[r], where=(rc > 0) & np.isfinite(rc))
        return weight

    def _fold_variance(self, acc, var, weight):
        """acc.wsum += var w^2 and acc.wt += w where var >= 0 is finite and w > 0, in float64
        (jwst's arithmetic: NaN sums start from 0), stored as float32; in row chunks."""
        wsum, wt = acc["wsum"], acc["wt"]
        plane = weight.ndim == 2
        with np.errstate(over="ignore", invalid="ignore"):
            for r in _row_chunks(self.shape[0], self.shape[1]):
                v = var[r]
                w = weight[r].astype(np.float64) if plane else weight
                ok = (v >= 0) & np.isfinite(v) & (w > 0)
                if not ok.any():
                    continue
                prev = wsum[r].astype(np.float64)
                new = np.where(np.isnan(prev), 0.0, prev) + v * w * w
                np.copyto(wsum[r], new, casting="same_kind", where=ok)
                np.copyto(wt[r], wt[r] + w, casting="same_kind", where=ok)

    def _update_time(self, image: InputImage):
        tm = self._times
        tm.starts.append(image.start_time)
        tm.ends.append(image.end_time)
        if image.exposure_time is not None:
            tm.exposure_time += image.exposure_time
        t, ok = measurement_time(image.exposure_time, image.measurement_time)
        tm.measured.append(ok)
        if t is not None:
            tm.measurement_time += t
        if image.duration is not None:
            tm.duration += image.duration

    # -- result ---------------------------------------------------------------------------
    @property
    def scaling(self):
        # kept as given (a Python float or a numpy float64) so the float32 arithmetic below
        # promotes exactly as jwst's does
        return 1.0 if self.pixel_scale_ratio is None else self.pixel_scale_ratio

    def finalize(self) -> dict:
        """The mosaic arrays and exposure/photometry metadata (frees the accumulators)."""
        if not self.n_added:
            raise ValueError("no exposure was added to the mosaic")
        out = {"data": self._driz.out_img, "wht": self._driz.out_wht}
        if self.enable_ctx:
            out["con"] = self._driz.out_ctx
        if self.propagate_dq:
            out["dq"] = self._driz.out_dq
        self._scratch = {}
        if self.enable_var:
            # row chunks: the same element-wise arithmetic with small temporaries
            scale2 = 1.0 / self.scaling ** 2
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "invalid value", RuntimeWarning)
                warnings.filterwarnings("ignore", "divide by zero", RuntimeWarning)
                for name in VARIANCE_ARRAYS:
                    acc = self._var.pop(name)
                    wsum, wt = acc.pop("wsum"), acc.pop("wt")
                    var = np.empty(self.shape, np.float32)
                    for r in _row_chunks(*self.shape):
                        var[r] = (wsum[r] * scale2 / wt[r] / wt[r]).astype(np.float32)
                    out[name] = var
                    del wsum, wt
            self._var = None
        if self.compute_err == "driz_err":
            out["err"] = self._driz_err.out_img / self.scaling
            self._driz_err = None
        elif self.compute_err == "from_var" and self.enable_var:
            err = None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                for r in _row_chunks(*self.shape):
                    parts = [out[n][r] for n in VARIANCE_ARRAYS]
                    chunk = np.sqrt(np.nansum(parts, axis=0))
                    chunk[np.all(np.isnan(parts), axis=0)] = np.nan
                    if err is None:
                        err = np.empty(self.shape, chunk.dtype)
                    err[r] = chunk
            out["err"] = err
        tm = self._times
        pix_area = self.pixel_scale ** 2
        out["meta"] = {
            "pointings": len(self._groups),
            "exposure_time": tm.exposure_time, "start_time": min(tm.starts), "end_time": max(tm.ends),
            "duration": tm.duration, "elapsed_exposure_time": tm.duration,
            "measurement_time": tm.measurement_time if all(tm.measured) else None,
            "pixelarea_steradians": pix_area / np.rad2deg(3600) ** 2, "pixelarea_arcsecsq": pix_area,
            "pixel_scale_ratio": self.pixel_scale_ratio,
        }
        self._driz = None
        return out
