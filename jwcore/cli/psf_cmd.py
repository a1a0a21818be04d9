"""``jwcal kernel`` and ``jwcal convolve``: PSF matching to a common resolution."""

from __future__ import annotations

from pathlib import Path

import click

_PSF_HELP = "gaussian:FWHM, moffat:FWHM[:BETA] (arcsec) or a PSF FITS file"


def _extent(spec) -> float | None:
    if spec.kind == "gaussian":
        return 8 * spec.fwhm
    if spec.kind == "moffat":
        return 20 * spec.fwhm
    return None


def build_kernel(source, target, pixscale=None, size=None, kh_fraction=0.005, kl_ratio=0.7):
    """``(kernel, pixscale, KernelResult)`` from two PSF specifications (see jwcore.psfmatch.io)."""
    from ..errors import ParameterError
    from ..psfmatch import aniano_kernel, fwhm_of
    from ..psfmatch.io import _header_scale, _read_image, psf_image

    if pixscale is None:
        for spec in (source, target):
            if spec.kind == "file":
                pixscale = spec.pixscale or _header_scale(_read_image(spec.path)[1])
                if pixscale:
                    break
        else:
            pixscale = source.fwhm / 5.0
    if not pixscale or pixscale <= 0:
        raise ParameterError("give --pixscale (arcsec per kernel pixel)")
    extents = [e for e in (_extent(source), _extent(target)) if e]
    extent = max(extents) if extents else None
    a = psf_image(source, pixscale, extent)
    b = psf_image(target, pixscale, extent)
    n = max(a.shape[0], b.shape[0])
    from ..psfmatch.kernel import pad_to

    a, b = pad_to(a, n), pad_to(b, n)
    fa, fb = fwhm_of(a, pixscale), fwhm_of(b, pixscale)
    if fa >= fb:
        raise ParameterError(f"the source PSF (FWHM {fa:.3f}\") is not sharper than the target ({fb:.3f}\"): "
                             "no convolution kernel can match them")
    result = aniano_kernel(a, b, size=size, kh_fraction=kh_fraction, kl_ratio=kl_ratio)
    return result.kernel, pixscale, result


@click.command("kernel")
@click.option("-s", "--source", required=True, help=f"The sharper PSF: {_PSF_HELP}.")
@click.option("-t", "--target", required=True, help=f"The broader PSF to match: {_PSF_HELP}.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Kernel FITS file to write.")
@click.option("--pixscale", type=float, default=None,
              help="Kernel pixel scale in arcsec (default: the PSF file's, else source FWHM / 5).")
@click.option("--source-pixscale", type=float, default=None, help="Pixel scale of a source PSF file without one.")
@click.option("--target-pixscale", type=float, default=None, help="Pixel scale of a target PSF file without one.")
@click.option("--size", type=int, default=None, help="Kernel size in pixels (odd; default: the PSFs' grid).")
@click.option("--kh-fraction", type=float, default=0.005, show_default=True,
              help="High-frequency cut: where the source PSF's Fourier amplitude falls to this fraction.")
@click.option("--kl-ratio", type=float, default=0.7, show_default=True, help="Taper start as a fraction of the cut.")
def kernel(source, target, output, pixscale, source_pixscale, target_pixscale, size, kh_fraction, kl_ratio):
    """Make a circularised PSF-matching kernel from SOURCE to TARGET (Aniano+2011 method).

    \b
    Examples:
      jwcal kernel -s gaussian:0.07 -t gaussian:0.67 --pixscale 0.0311 -o f200w_to_g067.fits
      jwcal kernel -s PSF_NIRCam_F200W.fits -t PSF_MIRI_F2100W.fits -o f200w_to_f2100w.fits
    """
    from ..psfmatch.io import parse_psf, write_kernel

    src, tgt = parse_psf(source, source_pixscale), parse_psf(target, target_pixscale)
    k, scale, info = build_kernel(src, tgt, pixscale, size, kh_fraction, kl_ratio)
    write_kernel(output, k, scale, source=src.describe(), target=tgt.describe(), info=info)
    click.echo(f"wrote {output}: {k.shape[0]}x{k.shape[1]} at {scale:g}\"/px, D={info.D:.3g}, "
               f"W-={info.W_minus:.3g}", err=True)


@click.command("convolve")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("-k", "--kernel", "kernel_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Kernel FITS file (from jwcal kernel, or Aniano's kernels).")
@click.option("-s", "--source", default=None, help=f"Instead of --kernel: the images' PSF, {_PSF_HELP}.")
@click.option("-t", "--target", default=None, help=f"Instead of --kernel: the PSF to reach, {_PSF_HELP}.")
@click.option("-o", "--output-dir", required=True, type=click.Path(file_okay=False), help="Folder for the results.")
@click.option("--suffix", default="conv", show_default=True, help="Output name: <input name>_<suffix>.fits.")
@click.option("--kernel-pixscale", type=float, default=None, help="Pixel scale of a kernel file without one.")
@click.option("--pixscale", type=float, default=None, help="Image pixel scale (default: from its WCS).")
@click.option("--min-weight", type=float, default=0.5, show_default=True,
              help="Blank output pixels whose valid-pixel coverage under the kernel is below this.")
def convolve(images, kernel_path, source, target, output_dir, suffix, kernel_pixscale, pixscale, min_weight):
    """Convolve IMAGES (i2d or cal) to a common resolution; ERR and VAR_* are propagated.

    The kernel is resampled to each image's pixel scale.  Pixels flagged DO_NOT_USE, NaN or
    with zero weight are left out (normalised convolution) and stay blank.

    \b
    Example:
      jwcal convolve out/*_i2d.fits -k f200w_to_f2100w.fits -o convolved/ --suffix atF2100W
    """
    from ..datamodel import open_model, write
    from ..errors import JwcalError, ParameterError
    from ..psfmatch.io import image_pixel_scale, parse_psf, read_kernel

    if bool(kernel_path) == bool(source and target):
        raise ParameterError("give either --kernel, or both --source and --target")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    fixed = read_kernel(kernel_path, kernel_pixscale) if kernel_path else None
    failed = 0
    for path in map(Path, images):
        try:
            with open_model(path) as model:
                model.load_all()
                scale = pixscale or image_pixel_scale(model)
                if fixed is not None:
                    k, kscale, header = fixed
                    desc = {"kernel": Path(kernel_path).name, "source": header.get("KSOURCE"),
                            "target": header.get("KTARGET")}
                else:
                    src, tgt = parse_psf(source), parse_psf(target)
                    k, kscale, _ = build_kernel(src, tgt, scale)
                    desc = {"kernel": None, "source": src.describe(), "target": tgt.describe()}
                used = convolve_model(model, k, kscale, scale, min_weight=min_weight)
                model.meta.set("jwcal.psf_matching", {**desc, "kernel_pixscale": kscale, "image_pixscale": scale,
                                                      "kernel_size": int(used.shape[0])})
                stem = path.name[:-5] if path.name.endswith(".fits") else path.stem
                target_path = out / f"{stem}_{suffix}.fits"
                write(model, target_path, protect=(path,))
            click.echo(f"{path} -> {target_path} (kernel {used.shape[0]}x{used.shape[1]} at {scale:.4g}\"/px)",
                       err=True)
        except JwcalError as exc:
            failed += 1
            click.echo(f"jwcal: error: {path}: {exc}", err=True)
    if failed:
        raise SystemExit(1)


def convolve_model(model, kernel, kernel_scale, image_scale, min_weight=0.5):
    """Convolve an image model's SCI/ERR/VAR_* in place; returns the kernel used (at the
    image's pixel scale).  Blanked output pixels get DO_NOT_USE."""
    import numpy as np

    from .. import dq as dqflags
    from ..psfmatch import convolve_image, resample_kernel

    k = resample_kernel(kernel, kernel_scale, image_scale)
    data = model.data
    valid = np.isfinite(data)
    if model.has("dq"):
        valid &= (model.dq & dqflags.DO_NOT_USE) == 0
    if model.has("wht"):
        valid &= model.wht > 0
    variances = {n: getattr(model, n) for n in ("var_poisson", "var_rnoise", "var_flat") if model.has(n)}
    err = model.err if model.has("err") else None
    out, err_out, var_out = convolve_image(data, k, valid, err=err, variances=variances, min_weight=min_weight)
    model.data = out
    if err_out is not None:
        model.err = np.where(np.isfinite(out), err_out, np.nan).astype(np.float32)
    for name, v in var_out.items():
        setattr(model, name, np.where(np.isfinite(out), v, np.nan).astype(np.float32))
    if model.has("dq"):
        model.dq = np.where(np.isfinite(out), model.dq, model.dq | dqflags.DO_NOT_USE).astype(np.uint32)
    return k


COMMANDS = (kernel, convolve)
