"""The metadata-path <-> FITS-keyword table (generated from the jwst schemas).

>>> KEYWORDS.keyword_for("meta.instrument.name")
('INSTRUME', 'PRIMARY')
>>> KEYWORDS.path_for("EXP_TYPE", "PRIMARY")
'meta.exposure.type'
"""

from __future__ import annotations

import json
from functools import cached_property
from importlib import resources


class KeywordTable:
    """Lookup in both directions; ``reference=True`` applies the reference-file placements."""

    def __init__(self, data: dict):
        self._science = data["science"]
        self._reference = data["reference"]

    def entries(self, reference: bool = False) -> dict[str, list]:
        if not reference:
            return self._science
        merged = dict(self._science)
        merged.update(self._reference)
        return merged

    def keyword_for(self, path: str, reference: bool = False):
        entry = self.entries(reference).get(path)
        return (entry[0], entry[1]) if entry else None

    def type_for(self, path: str):
        entry = self._science.get(path) or self._reference.get(path)
        return entry[2] if entry else None

    @cached_property
    def _by_keyword(self) -> dict[tuple[str, str], str]:
        out = {}
        for table in (self._reference, self._science):  # science wins on a tie
            for path, (kw, hdu, _type) in table.items():
                out[(kw, hdu)] = path
        return out

    def path_for(self, keyword: str, hdu: str = "PRIMARY"):
        return self._by_keyword.get((keyword.upper(), hdu.upper()))

    @cached_property
    def leaves(self) -> frozenset[str]:
        return frozenset(self._science) | frozenset(self._reference)

    @cached_property
    def prefixes(self) -> frozenset[str]:
        out = set()
        for path in self.leaves:
            parts = path.split(".")
            for i in range(1, len(parts)):
                out.add(".".join(parts[:i]))
        return frozenset(out)


def _load() -> KeywordTable:
    text = resources.files("jwcore.datamodel").joinpath("keywords.json").read_text()
    return KeywordTable(json.loads(text))


KEYWORDS = _load()
