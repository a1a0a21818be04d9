"""Reading the WCS reference files (ASDF): ``distortion`` and ``filteroffset``.

Both are plain ASDF trees: a distortion file keeps the full-frame pixel -> V2, V3 (arcsec)
transform under ``model`` (an astropy model, possibly with its ``bounding_box``); a filter
offset file keeps a list ``filters`` of ``{filter, [pupil,] column_offset, row_offset}``.
"""

from __future__ import annotations

import warnings

from ..errors import ReferenceFileError

__all__ = ["open_reference_tree", "load_distortion", "load_filter_offsets", "find_filter_offset"]


def open_reference_tree(path, what: str) -> dict:
    """The whole tree of an ASDF reference file, read eagerly; a clear error if it cannot be read."""
    import asdf

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # old files: unknown software/version tags
            with asdf.open(path, lazy_load=False, memmap=False) as af:
                return dict(af.tree)
    except FileNotFoundError:
        raise ReferenceFileError(f"{what} reference {path} does not exist") from None
    except Exception as exc:
        raise ReferenceFileError(f"{path}: not a readable ASDF {what} reference ({exc})") from None


def load_distortion(path):
    """The distortion transform (full-frame pixel -> V2, V3 arcsec) of a ``distortion`` file."""
    tree = open_reference_tree(path, "distortion")
    model = tree.get("model")
    if model is None or not hasattr(model, "n_inputs"):
        kind = (tree.get("meta") or {}).get("model_type", "?")
        raise ReferenceFileError(f"{path}: no imaging distortion 'model' in this {kind} file")
    if model.n_inputs != 2 or model.n_outputs != 2:
        raise ReferenceFileError(f"{path}: the distortion model maps {model.n_inputs} -> "
                                 f"{model.n_outputs} coordinates, expected 2 -> 2")
    return model


def load_filter_offsets(path) -> list:
    """The ``filters`` list of a ``filteroffset`` file (dicts with the offsets in pixels)."""
    tree = open_reference_tree(path, "filteroffset")
    filters = tree.get("filters")
    if not isinstance(filters, list):
        raise ReferenceFileError(f"{path}: no 'filters' list in this filteroffset file")
    return [dict(f) for f in filters]


def find_filter_offset(filters, match: dict):
    """``(column_offset, row_offset)`` of the entry equal to ``match`` on every key, or ``None``.

    An entry lacking a matched key does not match; several matching entries are an error.
    An entry without both offsets gives ``None``.
    """
    found = [f for f in filters if all(k in f and f[k] == v for k, v in match.items())]
    if len(found) > 1:
        raise ReferenceFileError(f"{len(found)} filter offsets match {match}; expected one")
    if not found:
        return None
    col, row = found[0].get("column_offset"), found[0].get("row_offset")
    if col is None or row is None:
        return None
    return col, row
