"""``jwcal refs list|select|add``: manage the local reference store."""

from __future__ import annotations

from pathlib import Path

import click

_REFS = click.option("--refs", type=click.Path(file_okay=False), default=None, envvar="JWCAL_REFS",
                     help="Reference store folder [env JWCAL_REFS; default ~/.jwcal/refs].")


def _open(refs):
    from ..refs.store import LocalStore, default_store_path

    return LocalStore(Path(refs) if refs else default_store_path())


@click.group()
def refs():
    """The local reference-file store."""


@refs.command("list")
@_REFS
def list_cmd(refs):
    """List the files in the store with their selection keywords."""
    store = _open(refs)
    click.echo(f"store: {store.root} ({len(store.entries)} files)")
    for e in sorted(store.entries, key=lambda e: (e.instrument, e.reftype, e.useafter)):
        keys = " ".join(f"{k.split('.')[-1]}={v}" for k, v in e.match.items())
        click.echo(f"  {e.instrument:8} {e.reftype:12} {e.useafter:20} {e.file}  {keys}")


@refs.command("select")
@click.argument("exposure", type=click.Path(dir_okay=False))
@click.argument("reftypes", nargs=-1)
@_REFS
def select_cmd(exposure, reftypes, refs):
    """Show which reference of each REFTYPE (default: all in the store) EXPOSURE gets."""
    from ..datamodel import open_model
    from ..errors import JwcalError
    from ..plugins import get_plugin_manager
    from ..refs import select_reference

    store = _open(refs)
    pm = get_plugin_manager()
    with open_model(exposure) as model:
        types = reftypes or sorted({e.reftype for e in store.entries if e.instrument == (model.meta.instrument.name or "").upper()})
        for reftype in types:
            try:
                sel = select_reference(pm, reftype, model.meta, store=store)
                click.echo(f"{reftype:14} {sel.path if sel else 'N/A'}")
            except JwcalError as exc:
                click.echo(f"{reftype:14} none: {exc}")


@refs.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@_REFS
def add_cmd(files, refs):
    """Copy reference FILES into the store and index them (REFTYPE, USEAFTER, keys, checksum)."""
    from ..plugins import get_plugin_manager

    pm = get_plugin_manager()
    store = _open(refs)

    def keys(instrument, reftype):
        return pm.hook.jwcal_reference_match_keys(instrument=instrument, reftype=reftype)

    for f in files:
        entry = store.add(f, match_keys_for=keys)
        click.echo(f"added {entry.file}: {entry.instrument} {entry.reftype} useafter {entry.useafter}")
    store.save_index()


@refs.command("verify")
@_REFS
def verify_cmd(refs):
    """Hash every file of the store and compare with its recorded SHA-256 (selection only
    re-hashes a file whose size or modification time changed)."""
    from ..errors import JwcalError, ReferenceFileError
    from ..refs.store import INDEX, parse_date

    store = _open(refs)
    if not (store.root / INDEX).is_file():
        raise ReferenceFileError(f"{store.root}: no reference store here (no {INDEX}); "
                                 "give --refs DIR or set JWCAL_REFS")
    bad = []
    for entry in store.entries:
        try:
            store.verified_path(entry, full=True)
            try:
                parse_date(entry.useafter)   # selection reads it too
            except ReferenceFileError as exc:
                raise ReferenceFileError(f"reference store {store.root}: {entry.file}: USEAFTER: {exc}") from None
        except ReferenceFileError as exc:
            bad.append(str(exc))
            click.echo(f"BAD  {entry.file}", err=True)
    click.echo(f"{len(store.entries) - len(bad)} of {len(store.entries)} reference files match their checksums")
    if bad:
        raise JwcalError(bad[0] if len(bad) == 1 else f"{len(bad)} reference files fail their checksums")


COMMANDS = (refs,)
