"""Attribute access over the nested metadata dict: ``model.meta.instrument.name``.

A leaf that the JWST schemas know but that is unset reads as ``None``; a known branch that is
unset reads as an empty node that comes into being when something is assigned below it; a
name the schemas do not know raises ``AttributeError`` (so typos fail loudly).  Plugins may
store their own metadata with :meth:`Node.set` or by assigning to a new attribute.
"""

from __future__ import annotations

from typing import Any, Iterator

from .keywords import KEYWORDS

# Branches whose children are free-form: a step of a third-party plugin records its status in
# meta.cal_step.<name>, a reference type in meta.ref_file.<reftype>.name.
OPEN_LEAF_PARENTS = {"meta.cal_step"}
OPEN_NODE_PARENTS = {"meta.ref_file"}
EXTRA_LEAVES = {"meta.wcs", "meta.asn.table_name", "meta.asn.pool_name", "meta.ref_file.crds.context_used"}


class Node:
    """A view on one dict of the metadata tree.  Writes go straight into that dict."""

    __slots__ = ("_data", "_path", "_parent", "_key")

    def __init__(self, data: dict | None, path: str, parent: "Node | None" = None, key: str | None = None):
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_parent", parent)
        object.__setattr__(self, "_key", key)

    # -- reading -----------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        data = self._data
        if data is not None and name in data:
            value = data[name]
            return Node(value, f"{self._path}.{name}", self, name) if isinstance(value, dict) else value
        full = f"{self._path}.{name}"
        if full in KEYWORDS.leaves or full in EXTRA_LEAVES or self._path in OPEN_LEAF_PARENTS:
            return None
        if full in KEYWORDS.prefixes or self._path in OPEN_NODE_PARENTS:
            return Node(None, full, self, name)
        raise AttributeError(f"{full} is not a known metadata attribute")

    def __contains__(self, name: str) -> bool:
        return self._data is not None and name in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data or {})

    def __bool__(self) -> bool:
        return bool(self._data)

    def __repr__(self) -> str:
        return f"<Node {self._path} {self._data!r}>"

    # -- writing -----------------------------------------------------------------
    def _materialize(self) -> dict:
        if self._data is None:
            parent_dict = self._parent._materialize()
            data = parent_dict.setdefault(self._key, {})
            object.__setattr__(self, "_data", data)
        return self._data

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, Node):
            value = value.to_dict()
        self._materialize()[name] = value

    def __delattr__(self, name: str) -> None:
        if self._data is not None:
            self._data.pop(name, None)

    # -- dotted helpers ----------------------------------------------------------
    def get(self, dotted: str, default: Any = None) -> Any:
        """``meta.get("exposure.type")``; missing anything along the way gives ``default``."""
        cur: Any = self._data or {}
        for part in dotted.split("."):
            if not isinstance(cur, dict) or part not in cur:
                return default
            cur = cur[part]
        return cur

    def set(self, dotted: str, value: Any) -> None:
        """``meta.set("exposure.type", "NRC_IMAGE")``, creating branches as needed."""
        cur = self._materialize()
        *branches, leaf = dotted.split(".")
        for part in branches:
            cur = cur.setdefault(part, {})
        cur[leaf] = value

    def to_dict(self) -> dict:
        return _deepcopy_dicts(self._data or {})

    def to_flat_dict(self, prefix: str | None = None) -> dict[str, Any]:
        """``{"meta.instrument.name": "NIRCAM", ...}`` for every leaf below this node."""
        out: dict[str, Any] = {}
        _flatten(self._data or {}, prefix or self._path, out)
        return out


def _deepcopy_dicts(d: dict) -> dict:
    return {k: _deepcopy_dicts(v) if isinstance(v, dict) else v for k, v in d.items()}


def _flatten(d: dict, prefix: str, out: dict) -> None:
    for key, value in d.items():
        path = f"{prefix}.{key}"
        if isinstance(value, dict):
            _flatten(value, path, out)
        else:
            out[path] = value
