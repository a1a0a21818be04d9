"""Every hook a jwcal plugin can implement.  This module is the reference.

A plugin is a module (or object) with functions named like the specs below, decorated with
``jwcore.hookimpl``.  Implementations may accept any subset of a hook's arguments.
Registration hooks receive a ``register`` callback (call it once per thing you contribute);
the core validates what you register and names your distribution in any error.

Hooks, by phase:

* registration (each plugin's implementation is called once, when the registry or the CLI is
  first built, with a ``register`` callback that records which plugin registered what):
  :func:`jwcal_register_steps`, :func:`jwcal_register_pipelines`,
  :func:`jwcal_register_exptypes`, :func:`jwcal_register_commands`,
  :func:`jwcal_register_detectors`
* per exposure, providers (``firstresult``: the first non-``None`` answer wins, plugins
  registered later are asked first): :func:`jwcal_select_reference`,
  :func:`jwcal_reference_match_keys`, :func:`jwcal_reference_row_keys`, :func:`jwcal_build_wcs`
* per step, observers: :func:`jwcal_before_step`, :func:`jwcal_after_step`

``docs/plugins.md`` has a section per hook; ``tests/test_hook_docs.py`` fails if a hook here
lacks a docstring with an example or is missing from that page.
"""

from __future__ import annotations

import pluggy

PROJECT = "jwcal"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# ---------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------
@hookspec
def jwcal_register_steps(register):
    """Contribute step classes.

    :param register: ``register(step_class)``; ``step_class`` subclasses
        :class:`jwcore.runner.step.Step` and has a unique ``name`` (jwst's step name, e.g.
        ``"jump"``).  Registering a name another distribution already registered is an error
        naming both distributions; use a new name, or refer to a step as ``dist::name``.

    Called once, when the plugin manager is first used.

    Example::

        from jwcore import hookimpl
        from .steps import DestripeStep

        @hookimpl
        def jwcal_register_steps(register):
            register(DestripeStep)
    """


@hookspec
def jwcal_register_pipelines(register):
    """Contribute pipelines, declared as data: an ordered list of step names.

    :param register: ``register(pipeline_spec)`` with a
        :class:`jwcore.runner.pipeline.PipelineSpec`.  A spec names the pipeline (jwst's name,
        e.g. ``"detector1"``, with aliases such as ``"calwebb_detector1"``), the instrument it
        is for (``None``: any instrument that has no variant of its own), its stage, and its
        steps in run order.  The declared order *is* the run order.

    Example::

        from jwcore import hookimpl
        from jwcore.runner.pipeline import PipelineSpec

        @hookimpl
        def jwcal_register_pipelines(register):
            register(PipelineSpec(
                name="detector1", aliases=("calwebb_detector1",), instrument="MIRI", stage=1,
                steps=("group_scale", "dq_init", "emicorr", "saturation", "ipc", "firstframe",
                       "lastframe", "reset", "linearity", "rscd", "dark_current",
                       "refpix", "jump", "ramp_fit", "gain_scale"),
                suffix="rate"))
    """


@hookspec
def jwcal_register_exptypes(register):
    """Say which EXP_TYPEs your instrument handles and which pipeline runs each stage.

    :param register: ``register(exp_type, instrument, stage1=..., stage2=..., stage3=...,
        per_integration=False)``; each stage value is a pipeline name or ``None`` (no such
        stage for that EXP_TYPE), as in the manual's "Pipeline Modules" table.
        ``per_integration=True``: stage 2 calibrates the per-integration ``_rateints`` into
        ``_calints`` (TSO, coronagraphy, AMI, as jwst's level-2 associations do).

    Example::

        from jwcore import hookimpl

        @hookimpl
        def jwcal_register_exptypes(register):
            register("MIR_IMAGE", "MIRI", stage1="detector1", stage2="image2", stage3="image3")
            register("MIR_TACQ", "MIRI", stage1="detector1", stage2="image2", stage3=None)
            register("MIR_4QPM", "MIRI", stage1="detector1", stage2="image2", stage3="coron3",
                     per_integration=True)
    """


@hookspec
def jwcal_register_commands(cli):
    """Add commands to the ``jwcal`` command line.

    :param cli: the top-level :class:`click.Group`.  Add commands or groups to it.  A command
        appears in ``jwcal --help`` only while your plugin is installed and loaded.

    Example::

        import click
        from jwcore import hookimpl

        @hookimpl
        def jwcal_register_commands(cli):
            @cli.group()
            def niriss():
                "NIRISS analyses."

            @niriss.command()
            @click.argument("image")
            def simplephot(image):
                click.echo(f"photometry of {image}")
    """


@hookspec
def jwcal_register_detectors(register):
    """Describe your instrument's detectors for the simulator and the pipeline.

    :param register: ``register(detector_spec)`` with a :class:`jwcore.sim.detector.DetectorSpec`
        (instrument, detector name, size, amplifier layout, FASTAXIS/SLOWAXIS, reference-pixel
        border, plate scale, typical gain/read noise/dark current, filters with PSF widths,
        subarrays).  ``jwcal simulate`` can simulate any registered detector.

    Example::

        from jwcore import hookimpl
        from jwcore.sim.detector import DetectorSpec

        @hookimpl
        def jwcal_register_detectors(register):
            register(DetectorSpec(instrument="MIRI", detector="MIRIMAGE", shape=(1024, 1032),
                                  fastaxis=1, slowaxis=2, plate_scale=0.11))
    """


# ---------------------------------------------------------------------------------------
# Providers (firstresult)
# ---------------------------------------------------------------------------------------
@hookspec(firstresult=True)
def jwcal_select_reference(reftype, meta, context):
    """Choose the reference file of type ``reftype`` for an exposure.

    :param str reftype: lower-case reference type, e.g. ``"superbias"``.
    :param meta: the exposure's metadata (:class:`jwcore.datamodel.Node`, ``meta.instrument.name``...).
    :param context: a :class:`jwcore.refs.SelectionContext`: the match keys the instrument
        declared for this reftype (``context.match_keys``), the reference store in use and the
        run's options.
    :return: a :class:`jwcore.refs.Selection` (path and where it came from), ``"N/A"`` when the
        reftype does not apply to this exposure, or ``None`` to let the next selector try.
        The first non-``None`` answer wins; the built-in local store answers last, so a CRDS
        or site plugin takes precedence when it answers.  ``override_<reftype>`` parameters
        are applied by the runner before this hook is called.

    Example::

        from jwcore import hookimpl
        from jwcore.refs import Selection

        @hookimpl
        def jwcal_select_reference(reftype, meta, context):
            if reftype == "gain" and meta.instrument.name == "MYINST":
                return Selection("/data/refs/myinst_gain.fits", source="site")
            return None
    """


@hookspec(firstresult=True)
def jwcal_reference_match_keys(instrument, reftype):
    """The metadata paths that select a ``reftype`` reference for ``instrument``.

    :param str instrument: INSTRUME value, upper case (``"NIRCAM"``).
    :param str reftype: lower-case reference type.
    :return: a sequence of metadata paths (``("meta.instrument.detector",
        "meta.subarray.name")``), as the manual's "CRDS Selection Criteria" give them, or
        ``None`` if this plugin does not know the instrument.  USEAFTER against the exposure's
        DATE-OBS/TIME-OBS is always applied on top.

    Example::

        from jwcore import hookimpl

        @hookimpl
        def jwcal_reference_match_keys(instrument, reftype):
            if instrument != "NIRCAM":
                return None
            if reftype == "flat":
                return ("meta.instrument.detector", "meta.instrument.filter",
                        "meta.instrument.pupil")
            return ("meta.instrument.detector",)
    """


@hookspec(firstresult=True)
def jwcal_reference_row_keys(instrument, reftype, exp_type):
    """The columns that select the row of a reference *table* for an exposure.

    :param str instrument: INSTRUME value, upper case (``"MIRI"``).
    :param str reftype: lower-case reference type whose file holds the table (``"photom"``).
    :param str exp_type: the exposure's EXP_TYPE.
    :return: a sequence of :class:`jwcore.refs.rows.RowKey` (table column, the metadata path
        it is compared with, whether the column may be missing, a fallback value); an empty
        sequence selects the table's first row; ``None`` if this plugin does not know the
        instrument.  ``InstrumentPlugin(row_keys=...)`` answers this from a declaration.

    Example::

        from jwcore import hookimpl
        from jwcore.refs.rows import RowKey

        @hookimpl
        def jwcal_reference_row_keys(instrument, reftype, exp_type):
            if instrument == "MYCAM" and reftype == "photom":   # a plugin's own instrument
                return (RowKey("filter", "meta.instrument.filter"),
                        RowKey("subarray", "meta.subarray.name", fallback="GENERIC"))
            return None
    """


@hookspec(firstresult=True)
def jwcal_build_wcs(model, references):
    """Build the WCS of an exposure (detector -> v2v3 -> world) as a ``gwcs.WCS``.

    :param model: the exposure (:class:`jwcore.datamodel.ImageModel` or similar).
    :param references: :class:`jwcore.runner.step.References` with the reference files the
        ``assign_wcs`` step selected (``references.path("distortion")``...).
    :return: a ``gwcs.WCS`` or ``None`` if this plugin does not handle the exposure's
        instrument/EXP_TYPE.

    Example::

        from jwcore import hookimpl

        @hookimpl
        def jwcal_build_wcs(model, references):
            if model.meta.instrument.name != "MIRI":
                return None
            from .wcs import imaging_wcs
            return imaging_wcs(model, references.path("distortion"))
    """


@hookspec(firstresult=True)
def jwcal_wcs_reference_types(meta):
    """The reference types an exposure's WCS is built from (what ``assign_wcs`` selects).

    :param meta: the exposure's metadata (``meta.instrument.name``, ``meta.exposure.type``...);
        only metadata, as the run coordinator may ask before the data are read.
    :return: a tuple of reftypes, or ``None`` if this plugin does not build the exposure's
        WCS (then ``assign_wcs`` selects ``distortion`` and ``filteroffset``).  Each name must
        be one of ``AssignWcsStep.reference_file_types``, so that ``override_<reftype>``
        exists for it.

    Example::

        from jwcore import hookimpl

        @hookimpl
        def jwcal_wcs_reference_types(meta):
            if meta.get("instrument.name") != "NIRSPEC":
                return None
            return ("fpa", "camera", "disperser", "collimator", "wavelengthrange", "fore", "ote")
    """


# ---------------------------------------------------------------------------------------
# Observers
# ---------------------------------------------------------------------------------------
@hookspec
def jwcal_before_step(step, model):
    """Called before a step processes a model (not called for a skipped step).

    :param step: the configured :class:`jwcore.runner.step.Step` instance (``step.name``,
        its parameters as attributes).
    :param model: the input model.  Do not replace it; you may read or annotate it.

    Example::

        from jwcore import hookimpl

        @hookimpl
        def jwcal_before_step(step, model):
            print(f"{step.name} starts on {model.meta.filename}")
    """


@hookspec
def jwcal_after_step(step, model, result):
    """Called after a step finished, with its input and its result.

    :param step: the :class:`jwcore.runner.step.Step` instance.
    :param model: the step's input model.
    :param result: the step's output model (often the same object, modified in place).

    Example::

        from jwcore import hookimpl

        @hookimpl
        def jwcal_after_step(step, model, result):
            if step.name == "ramp_fit":
                print("median rate", float(np.nanmedian(result.data)))
    """
