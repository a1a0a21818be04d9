"""The members of an association product, opened one (or a few) at a time.

Stage-3 steps iterate a :class:`ModelLibrary` instead of holding every exposure in memory,
so peak memory grows with the output, not with the number of inputs.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path


class ModelLibrary:
    def __init__(self, association, product=None, exptype: str = "science"):
        self.association = association
        self.product = product or association.products[0]
        self.members = [m for m in self.product.members if m.exptype == exptype]
        self.paths: list[Path] = [association.member_path(m) for m in self.members]
        self._meta = None

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def meta(self):
        """The first member's metadata (what a pipeline reads for routing and naming)."""
        if self._meta is None:
            from .datamodel import open_model

            with open_model(self.paths[0]) as m:
                self._meta = m.meta
        return self._meta

    @contextmanager
    def open(self, index: int):
        """Open member ``index``; it is closed when the block ends."""
        from .datamodel import open_model

        model = open_model(self.paths[index])
        try:
            yield model
        finally:
            model.close()

    def __iter__(self):
        for i in range(len(self)):
            with self.open(i) as model:
                yield model
