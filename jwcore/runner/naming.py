"""Output file names as jwst makes them: ``<basename>_<suffix>.fits``.

The basename is the input name with any known product suffix removed (the manual's suffix
table), so ``jw..._nrca1_uncal.fits`` becomes ``jw..._nrca1_rate.fits``.

>>> output_name("jw01_nrca1_uncal.fits", "rate")
'jw01_nrca1_rate.fits'
>>> basename("jw01_nrca1_rate.fits")
'jw01_nrca1'
"""

from __future__ import annotations

import re
from pathlib import Path

# The manual's "Pipeline/Step Suffix Definitions" plus jwst's intermediate-step suffixes.
KNOWN_SUFFIXES = frozenset("""
uncal ramp rate rateints trapsfilled dark fitopt bsub bsubints cal calints crf crfints
i2d s2d s3d x1d x1dints c1d cat segm psfstack psfalign psfsub ami amiavg aminorm ami-oi
aminorm-oi whtlt phot wfscmb median blot outlier_i2d tweakreg skymatch outlier_detection
resample flat_field photom assign_wcs background group_scale dq_init saturation ipc
superbias refpix linearity persistence dark_current jump ramp_fit gain_scale firstframe
lastframe reset rscd emicorr charge_migration clean_flicker_noise picture_frame guider_cds
cal_step dark_sub srctype msa_flagging
""".split())
_SUFFIX_RE = re.compile(r"^(?P<base>.+?)(?:_(?P<suffix>[A-Za-z0-9\-]+))?$")


def basename(path) -> str:
    """Strip the extension and, repeatedly, any known trailing suffix."""
    stem = Path(str(path)).name
    for ext in (".fits.gz", ".fits", ".asdf", ".ecsv", ".json"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
            break
    while True:
        parts = stem.split("_")
        for n in (3, 2, 1):   # suffixes such as dark_current or outlier_i2d hold underscores
            if len(parts) > n and "_".join(parts[-n:]).lower() in KNOWN_SUFFIXES:
                stem = "_".join(parts[:-n])
                break
        else:
            return stem


def output_name(input_name, suffix: str, ext: str = ".fits", output_file: str | None = None) -> str:
    base = basename(output_file) if output_file else basename(input_name)
    return f"{base}_{suffix}{ext}"


def output_path(input_name, suffix: str, output_dir=None, ext: str = ".fits", output_file: str | None = None) -> Path:
    folder = Path(output_dir) if output_dir else Path(str(input_name)).parent
    return folder / output_name(input_name, suffix, ext, output_file)


def asn_id(library) -> str | None:
    """The association id of a stage-3 library (``a3001``), if it has an association."""
    association = getattr(library, "association", None)
    return getattr(association, "asn_id", None) if association is not None else None


def member_base(library, index: int) -> str:
    """``<member basename>_<asn_id>``: how jwst names per-member stage-3 products (``_crf``)."""
    paths = getattr(library, "original_paths", None) or getattr(library, "paths", None)
    if paths is not None:
        name = basename(paths[index])
    else:
        with library.open(index) as model:
            name = basename(model.meta.get("filename") or f"member{index}")
    aid = asn_id(library)
    return f"{name}_{aid}" if aid else name
