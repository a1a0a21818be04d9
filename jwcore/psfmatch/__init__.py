"""PSF matching: kernels (Aniano et al. 2011, circularised) and convolution of images to a
common resolution with ERR propagated.

* :mod:`jwcore.psfmatch.profiles` - Gaussian/Moffat PSFs, circularisation, resampling;
* :mod:`jwcore.psfmatch.kernel` - the kernel and its figures of merit;
* :mod:`jwcore.psfmatch.convolve` - convolution with masked pixels and error propagation;
* :mod:`jwcore.psfmatch.io` - PSF specifications (files, ``gaussian:FWHM``, ``moffat:FWHM:BETA``)
  and kernel files.

Used by ``jwcal kernel`` and ``jwcal convolve``.
"""

from .convolve import convolve_image, resample_kernel
from .kernel import KernelResult, aniano_kernel
from .profiles import circularise, fwhm_of, gaussian_psf, moffat_psf, resample_circular

__all__ = ["convolve_image", "resample_kernel", "KernelResult", "aniano_kernel", "circularise", "fwhm_of",
           "gaussian_psf", "moffat_psf", "resample_circular"]
