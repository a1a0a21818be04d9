"""What a run carries from step to step: plugins, naming, references chosen, timings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from .naming import output_path

log = logging.getLogger("jwcal.run")


@dataclass
class RunContext:
    pm: object
    input_path: Path | None = None
    output_dir: Path | None = None
    output_file: str | None = None
    overwrite: bool = True
    protect: tuple = ()
    store: object = None
    references: dict = field(default_factory=dict)   # (reftype, override or None) -> Selection|None
    steps: list = field(default_factory=list)         # (step name, status, seconds)
    written: list = field(default_factory=list)

    @classmethod
    def default(cls, input_path=None, **kw) -> "RunContext":
        from ..plugins import get_plugin_manager

        p = Path(input_path) if input_path else None
        return cls(pm=get_plugin_manager(), input_path=p, protect=(p,) if p else (), **kw)

    def reference(self, reftype, meta, override, selector):
        """Select a reference once per (reftype, override) for this exposure."""
        key = (reftype, override)
        if key not in self.references:
            self.references[key] = selector(self.pm, reftype, meta, override=override, store=self.store)
        return self.references[key]

    def note_step(self, step, status, seconds):
        self.steps.append((step.name, status, round(seconds, 3)))

    def save(self, model, suffix: str, step=None, ext: str | None = None, base=None) -> Path:
        """Write a product as ``<base>_<suffix><ext>`` (atomically, never over an input).

        ``base`` defaults to the run's input (or ``output_file``); stage-3 steps pass a
        member's name for per-exposure products (``_crf``).  An astropy ``Table`` (a
        catalog) is written as ECSV, a model as FITS.
        """
        import sys

        output_dir = self.output_dir
        output_file = self.output_file
        if step is not None:
            output_dir = step.output_dir or output_dir
            output_file = step.output_file or output_file
        if base is not None:
            source, output_file = Path(base), None
        else:
            source = self.input_path or Path(getattr(getattr(model, "meta", None), "filename", None) or "jwcal_output.fits")
        if output_dir is None:   # as jwst: outputs go to the current folder by default
            output_dir = Path.cwd()
        # a catalog is an astropy Table; if astropy.table was never imported, it is not one
        table_mod = sys.modules.get("astropy.table")
        is_table = table_mod is not None and isinstance(model, table_mod.Table)
        ext = ext or (".ecsv" if is_table else ".fits")
        path = output_path(source, suffix, output_dir, ext, output_file)
        if is_table:
            from ..atomic import atomic_path

            with atomic_path(path, overwrite=self.overwrite, protect=self.protect) as tmp:
                model.write(tmp, format="ascii.ecsv", overwrite=True)
        else:
            from ..datamodel import write

            write(model, path, overwrite=self.overwrite, protect=self.protect)
        log.info("Saved %s", path)
        self.written.append(path)
        return path
