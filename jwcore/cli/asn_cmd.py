"""``jwcal asn from-list``: make an association from files (the asn_from_list equivalent)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def asn():
    """Make and check association (ASN) files."""


@asn.command("from-list")
@click.argument("files", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="ASN file to write.")
@click.option("--product-name", default=None, help="Product name (level 3).")
@click.option("-r", "--rule", default="DMS_Level3_Base", show_default=True,
              type=click.Choice(["DMS_Level3_Base", "DMS_Level2_Base"]), help="Association rule.")
@click.option("--asn-type", default=None, help="asn_type (default image3 / image2).")
def from_list_cmd(files, output, product_name, rule, asn_type):
    """Write an association of FILES (paths are kept relative to the ASN's folder)."""
    from ..asn import from_list, load

    out = Path(output)
    rel = []
    for f in files:
        p = Path(f)
        try:
            rel.append(str(p.resolve().relative_to(out.resolve().parent)))
        except ValueError:
            from ..errors import BadInputError

            raise BadInputError(f"{f} is not inside the association's folder {out.resolve().parent}") from None
    association = from_list(rel, product_name=product_name, rule=rule, asn_type=asn_type)
    association.write(out)
    load(out)  # validates what was written
    click.echo(f"wrote {out} ({sum(len(p.members) for p in association.products)} members)")


@asn.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path())
def check(files):
    """Validate association files (format, member paths inside the folder, members exist)."""
    from ..asn import load
    from ..errors import BadInputError

    for f in files:
        a = load(f)
        missing = [m.expname for p in a.products for m in p.members if not a.member_path(m).exists()]
        if missing:
            raise BadInputError(f"{f}: missing member file(s): {', '.join(missing)}")
        click.echo(f"{f}: level {a.level} {a.asn_type}, {len(a.products)} product(s), OK")


COMMANDS = (asn,)
