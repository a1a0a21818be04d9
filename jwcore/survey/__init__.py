"""Survey-scale processing: a survey configuration for ``jwcal run``, ``jwcal release`` and
``jwcal download`` (the way survey teams such as PHANGS-JWST drive the pipeline).

* :mod:`jwcore.survey.config` - the ``[survey]`` table of a parameter file: targets,
  instruments, filters, local paths and per-instrument parameters;
* :mod:`jwcore.survey.release` - flatten a run's products into a clean folder with a manifest;
* :mod:`jwcore.survey.download` - fetch a program's products from MAST, resumable, checked.
"""
