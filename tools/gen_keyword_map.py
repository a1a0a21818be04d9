"""Regenerate ``jwcore/datamodel/keywords.json`` from the stdatamodels schemas.

The table maps each metadata path (``meta.instrument.name``) to its FITS keyword, the HDU
that carries it and its JSON-schema type, so jwcal reads and writes the same keywords as
``jwst``.  It is *data extracted from the schemas*, not code: run this script (with the
``test`` extra installed) whenever stdatamodels adds keywords, and commit the result.
``tests/test_keyword_map.py`` fails when the committed table drifts from the installed
stdatamodels.

    python tools/gen_keyword_map.py            # rewrite the table
    python tools/gen_keyword_map.py --check    # exit 1 if it would change
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TARGET = Path(__file__).resolve().parents[1] / "jwcore" / "datamodel" / "keywords.json"

SCIENCE = ["Level1bModel", "RampModel", "ImageModel", "CubeModel", "IFUImageModel", "SlitModel",
           "MultiSlitModel", "MultiSpecModel", "IFUCubeModel"]
REFERENCE = ["MaskModel", "SaturationModel", "SuperBiasModel", "LinearityModel", "DarkModel",
             "DarkMIRIModel", "GainModel", "ReadnoiseModel", "IPCModel", "FlatModel",
             "MirImgPhotomModel", "NisImgPhotomModel", "FgsImgPhotomModel", "PixelAreaModel",
             "DistortionModel", "FilteroffsetModel", "TrapDensityModel", "TrapParsModel",
             "PersistenceSatModel", "ResetModel", "RSCDModel"]


def collect(names):
    from stdatamodels import schema as sch
    from stdatamodels.jwst import datamodels as dm

    out: dict[str, list] = {}
    for name in names:
        model = getattr(dm, name)()

        def visit(sub, path, combiner, ctx, recurse):
            if isinstance(sub, dict) and "fits_keyword" in sub:
                parts = [str(p) for p in path if p != "items"]
                if parts and parts[0] != "meta":
                    return  # per-slit keywords: spectroscopic layout, not yet used
                out.setdefault(".".join(parts),
                               [sub["fits_keyword"], sub.get("fits_hdu", "PRIMARY"), sub.get("type")])

        sch.walk_schema(model._schema, visit)
    return out


def build():
    science = collect(SCIENCE)
    reference = collect(REFERENCE)
    ref_overrides = {p: v for p, v in reference.items() if p not in science or science[p][:2] != v[:2]}
    return {"science": dict(sorted(science.items())), "reference": dict(sorted(ref_overrides.items()))}


def main(argv):
    table = build()
    text = json.dumps(table, indent=0, sort_keys=True) + "\n"
    if "--check" in argv:
        same = TARGET.exists() and json.loads(TARGET.read_text()) == table
        print("keyword table up to date" if same else "keyword table differs from stdatamodels")
        return 0 if same else 1
    TARGET.write_text(text)
    print(f"wrote {TARGET} ({len(table['science'])} science, {len(table['reference'])} reference paths)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
