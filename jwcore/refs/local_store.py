"""Built-in plugin: select references from the local reference store (answers last)."""

from __future__ import annotations

from ..hookspecs import hookimpl
from . import Selection
from .store import LocalStore, default_store_path


@hookimpl(trylast=True)
def jwcal_select_reference(reftype, meta, context):
    store = context.store if isinstance(context.store, LocalStore) else LocalStore(context.store or default_store_path())
    entry = store.select(reftype, meta, context.match_keys)
    if entry is None:
        return None
    path = store.verified_path(entry)
    return Selection(str(path), source="local", sha256=entry.sha256)
