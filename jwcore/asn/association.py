"""Read, validate and make association (ASN) files.

Members are resolved relative to the association's folder; a member whose path escapes that
folder (absolute path, ``..``, a symlink pointing out) is refused.

>>> asn = from_list(["a_cal.fits", "b_cal.fits"], product_name="mosaic", rule="DMS_Level3_Base")
>>> asn.level, [m.expname for m in asn.products[0].members]
(3, ['a_cal.fits', 'b_cal.fits'])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import atomic_path
from ..errors import BadInputError

LEVEL2_TYPES = {"image2", "spec2", "tso-image2", "tso-spec2", "wfs-image2"}
LEVEL3_TYPES = {"image3", "spec3", "coron3", "ami3", "tso3", "wfs-image3", "nrs_fss", "nrs_ifu"}
KNOWN_MEMBER_TYPES = {"science", "background", "psf", "target_acquisition", "imprint",
                      "sourcecat", "segmap", "direct_image", "selfcal", "imprint_background"}


@dataclass
class Member:
    expname: str
    exptype: str = "science"
    extra: dict = field(default_factory=dict)


@dataclass
class Product:
    name: str
    members: list

    def by_type(self, exptype: str) -> list:
        return [m for m in self.members if m.exptype == exptype]


@dataclass
class Association:
    asn_type: str
    asn_rule: str
    products: list
    asn_id: str = "a3001"
    asn_pool: str = "none"
    program: str = "noprogram"
    target: str = "none"
    path: Path | None = None
    extra: dict = field(default_factory=dict)

    @property
    def level(self) -> int:
        rule = self.asn_rule.lower()
        if "level2" in rule or self.asn_type.lower() in LEVEL2_TYPES:
            return 2
        return 3

    @property
    def folder(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def member_path(self, member: Member) -> Path:
        """The member's file, resolved inside the association's folder (or an error)."""
        return safe_member_path(self.folder, member.expname, self.path)

    def to_dict(self) -> dict:
        out = {
            "asn_type": self.asn_type, "asn_rule": self.asn_rule, "version_id": None,
            "code_version": _version(), "degraded_status": "No known degraded exposures in association.",
            "program": self.program, "constraints": "No constraints", "asn_id": self.asn_id,
            "target": self.target, "asn_pool": self.asn_pool,
            "products": [{"name": p.name, "members": [{"expname": m.expname, "exptype": m.exptype, **m.extra}
                                                      for m in p.members]} for p in self.products],
        }
        out.update(self.extra)
        return out

    def write(self, path) -> Path:
        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=4) + "\n")
        return path


def _version() -> str:
    from .. import __version__

    return f"jwcal {__version__}"


def safe_member_path(folder: Path, expname: str, asn_path=None) -> Path:
    where = f"{asn_path}: " if asn_path else ""
    if not isinstance(expname, str) or not expname.strip():
        raise BadInputError(f"{where}member with an empty expname")
    candidate = Path(expname)
    if candidate.is_absolute():
        raise BadInputError(f"{where}member {expname!r} is an absolute path; members must be inside the association's folder")
    root = folder.resolve()
    resolved = (root / candidate).resolve()
    if resolved != root and root not in resolved.parents:
        raise BadInputError(f"{where}member {expname!r} escapes the association's folder {root}")
    return resolved


def is_association(path) -> bool:
    p = Path(path)
    return p.suffix.lower() == ".json" or p.name.endswith("_asn.json")


def load(path) -> Association:
    """Parse and validate an association file; errors are one-line :class:`BadInputError`."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such association file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadInputError(f"{path}: an association must be a JSON object")
    products = data.get("products")
    if not isinstance(products, list) or not products:
        raise BadInputError(f"{path}: association has no 'products' list")
    out_products = []
    for i, prod in enumerate(products):
        if not isinstance(prod, dict) or not isinstance(prod.get("members"), list):
            raise BadInputError(f"{path}: product {i} has no 'members' list")
        members = []
        for j, mem in enumerate(prod["members"]):
            if not isinstance(mem, dict) or "expname" not in mem:
                raise BadInputError(f"{path}: product {i} member {j} has no 'expname'")
            exptype = str(mem.get("exptype", "science")).lower()
            extra = {k: v for k, v in mem.items() if k not in ("expname", "exptype")}
            members.append(Member(str(mem["expname"]), exptype, extra))
        name = prod.get("name") or (Path(members[0].expname).stem if members else f"product{i}")
        out_products.append(Product(str(name), members))
    asn = Association(
        asn_type=str(data.get("asn_type", "None")), asn_rule=str(data.get("asn_rule", "DMS_Level3_Base")),
        products=out_products, asn_id=str(data.get("asn_id", "a3001")), asn_pool=str(data.get("asn_pool", "none")),
        program=str(data.get("program", "noprogram")), target=str(data.get("target", "none")), path=path,
        extra={k: v for k, v in data.items() if k not in {
            "asn_type", "asn_rule", "products", "asn_id", "asn_pool", "program", "target", "version_id",
            "code_version", "degraded_status", "constraints"}})
    for prod in asn.products:
        for mem in prod.members:
            asn.member_path(mem)   # path safety is checked up front
    return asn


def from_list(files, product_name: str | None = None, rule: str = "DMS_Level3_Base",
              asn_type: str | None = None, exptype: str = "science") -> Association:
    """The ``asn_from_list`` equivalent: one level-3 product of all files, or (Level2 rule)
    one product per file, named after the file's basename."""
    from ..runner.naming import basename

    files = [str(f) for f in files]
    if not files:
        raise BadInputError("no files given to make an association from")
    level2 = "level2" in rule.lower()
    if level2:
        products = [Product(basename(f), [Member(f, exptype)]) for f in files]
        asn_type = asn_type or "image2"
    else:
        if not product_name:
            raise BadInputError("a level-3 association needs a product name (--product-name)")
        products = [Product(product_name, [Member(f, exptype) for f in files])]
        asn_type = asn_type or "image3"
    return Association(asn_type=asn_type, asn_rule=rule, products=products)
