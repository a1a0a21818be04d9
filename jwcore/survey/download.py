"""Fetch a program's products from MAST: query, then resumable, checked downloads.

Query: with ``astroquery`` installed and the default MAST address, its ``Observations``
interface is used; otherwise the MAST API is called directly with ``urllib``
(``POST <mast>/api/v0/invoke`` with ``Mast.Caom.Filtered`` for the program's observations and
``Mast.Caom.Products`` for their files).  Observations are then selected by instrument, filter
and observation number, products by type (``UNCAL``, ``RATE``, ``CAL``, ``I2D``, ``ASN``...).

Download (always ``urllib``, ``GET <mast>/api/v0.1/Download/file?uri=<dataURI>``): each file
goes to ``<name>.part`` first; an interrupted transfer is resumed with an HTTP ``Range``
request (a server that ignores it sends the whole file again, which is handled); the result
is checked - size against the product list, a SHA-256 or MD5 the server sends (``Digest``,
``Content-MD5``, ``X-Checksum-Sha256``), and the FITS ``DATASUM``/``CHECKSUM`` keywords - and
only then renamed into place.  A failed check restarts the file from scratch (``retries``
times).  ``download_manifest.json`` in the destination records each file's size and SHA-256,
so a later run skips files that are complete and intact.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import atomic_path
from ..errors import BadInputError, JwcalError

log = logging.getLogger("jwcal.download")

__all__ = ["MAST_URL", "MastClient", "Product", "select_products", "download_file", "download_products",
           "DownloadError"]

MAST_URL = "https://mast.stsci.edu"
MANIFEST = "download_manifest.json"
CHUNK = 1 << 20


class DownloadError(JwcalError):
    """A download failed or its content did not check out."""


@dataclass
class Product:
    filename: str
    uri: str
    size: int | None = None
    subgroup: str = ""          # UNCAL, RATE, CAL, I2D, ASN, ...
    obs_id: str = ""
    calib_level: int | None = None
    product_type: str = ""      # SCIENCE, AUXILIARY, INFO...
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: dict) -> "Product":
        size = row.get("size")
        level = row.get("calib_level")
        return cls(filename=str(row.get("productFilename") or Path(str(row.get("dataURI", ""))).name),
                   uri=str(row.get("dataURI") or ""), size=int(size) if size not in (None, "") else None,
                   subgroup=str(row.get("productSubGroupDescription") or "").upper(), obs_id=str(row.get("obs_id") or ""),
                   calib_level=int(level) if str(level or "").lstrip("-").isdigit() else None,
                   product_type=str(row.get("productType") or "").upper(), extra=dict(row))


class MastClient:
    """The two MAST API services a program download needs, over plain HTTP(S)."""

    def __init__(self, base_url: str = MAST_URL, timeout: float = 60.0, token: str | None = None,
                 page_size: int = 5000):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token = token
        self.page_size = page_size

    def _headers(self) -> dict:
        h = {"User-Agent": "jwcal-download", "Accept": "application/json"}
        if self.token:
            h["Authorization"] = f"token {self.token}"
        return h

    def invoke(self, service: str, params: dict) -> list[dict]:
        """All rows of a MAST service request (pages followed; EXECUTING polled)."""
        rows: list[dict] = []
        page = 1
        while True:
            request = {"service": service, "params": params, "format": "json", "pagesize": self.page_size,
                       "page": page}
            body = urllib.parse.urlencode({"request": json.dumps(request)}).encode()
            doc = None
            for attempt in range(30):
                req = urllib.request.Request(f"{self.base_url}/api/v0/invoke", data=body, headers=self._headers())
                try:
                    with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                        doc = json.loads(resp.read().decode())
                except (urllib.error.URLError, OSError, ValueError) as exc:
                    raise DownloadError(f"MAST query {service} failed: {exc}") from None
                if str(doc.get("status", "COMPLETE")).upper() != "EXECUTING":
                    break
                time.sleep(min(2.0, 0.1 * (attempt + 1)))
            status = str(doc.get("status", "COMPLETE")).upper()
            if status not in ("COMPLETE", "OK"):
                raise DownloadError(f"MAST query {service}: status {status}: {doc.get('msg', '')}")
            rows.extend(doc.get("data") or [])
            paging = doc.get("paging") or {}
            pages = int(paging.get("pagesFiltered") or 1)
            if page >= pages:
                return rows
            page += 1

    def observations(self, program) -> list[dict]:
        prog = str(int(program)) if str(program).isdigit() else str(program)
        filters = [{"paramName": "obs_collection", "values": ["JWST"]},
                   {"paramName": "proposal_id", "values": [prog]}]
        return self.invoke("Mast.Caom.Filtered", {"columns": "*", "filters": filters})

    def products(self, obsids) -> list[dict]:
        out: list[dict] = []
        ids = [str(i) for i in obsids]
        for i in range(0, len(ids), 50):
            out.extend(self.invoke("Mast.Caom.Products", {"obsid": ",".join(ids[i:i + 50])}))
        return out

    def file_url(self, uri: str) -> str:
        return f"{self.base_url}/api/v0.1/Download/file?uri={urllib.parse.quote(uri, safe=':/')}"


def _astroquery_rows(program) -> tuple[list[dict], list[dict]] | None:
    """Observations and products through astroquery, if it is installed."""
    try:
        from astroquery.mast import Observations
    except ImportError:
        return None
    prog = str(int(program)) if str(program).isdigit() else str(program)
    obs = Observations.query_criteria(obs_collection="JWST", proposal_id=prog)
    obs_rows = [dict(zip(obs.colnames, [r[c] for c in obs.colnames])) for r in obs]
    if not obs_rows:
        return obs_rows, []
    prods = Observations.get_product_list(obs)
    prod_rows = [dict(zip(prods.colnames, [r[c] for c in prods.colnames])) for r in prods]
    return obs_rows, prod_rows


def _obs_number(obs_id: str) -> str | None:
    """``jw02107-o001_...`` or ``jw02107001001_...`` -> ``"001"``."""
    s = str(obs_id).lower()
    if s.startswith("jw") and len(s) > 10:
        if s[7:9] == "-o":
            return s[9:12]
        if s[2:13].isdigit():
            return s[7:10]
    return None


def select_observations(rows, *, instruments=(), filters=(), observations=()) -> list[dict]:
    """Observations whose instrument, filter and observation number match (case-insensitive)."""
    inst = {i.upper() for i in instruments}
    filt = {f.upper() for f in filters}
    obsn = {f"{int(o):03d}" if str(o).isdigit() else str(o) for o in observations}
    out = []
    for r in rows:
        name = str(r.get("instrument_name") or "").upper().split("/")[0]
        if inst and name not in inst:
            continue
        if filt and not (filt & set(str(r.get("filters") or "").upper().replace(",", ";").split(";"))):
            continue
        if obsn and _obs_number(str(r.get("obs_id") or "")) not in obsn:
            continue
        out.append(r)
    return out


def select_products(rows, types=("UNCAL",), science_only: bool = True) -> list[Product]:
    """Products of the given types (``productSubGroupDescription``), one per file name."""
    want = {t.upper() for t in types}
    seen: dict[str, Product] = {}
    for r in rows:
        p = Product.from_row(r)
        if want and p.subgroup not in want:
            continue
        if science_only and p.product_type and p.product_type not in ("SCIENCE", "PREVIEW") and p.subgroup != "ASN":
            continue
        if not p.uri or p.filename in seen:
            continue
        seen[p.filename] = p
    return sorted(seen.values(), key=lambda p: p.filename)


# -- downloading ---------------------------------------------------------------------------
def _file_hash(path: Path, algo: str = "sha256") -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _expected_digests(headers) -> dict:
    """Checksums a server may announce: ``Digest: sha-256=<b64>``, ``Content-MD5``,
    ``X-Checksum-Sha256`` (hex)."""
    out = {}
    for part in (headers.get("Digest") or "").split(","):
        algo, _, value = part.strip().partition("=")
        if algo.lower() in ("sha-256", "sha256") and value:
            out["sha256"] = base64.b64decode(value).hex()
        elif algo.lower() == "md5" and value:
            out["md5"] = base64.b64decode(value).hex()
    if headers.get("Content-MD5"):
        out["md5"] = base64.b64decode(headers["Content-MD5"]).hex()
    if headers.get("X-Checksum-Sha256"):
        out["sha256"] = headers["X-Checksum-Sha256"].strip().lower()
    return out


def fits_checksum_ok(path: Path) -> bool | None:
    """``True``/``False`` when ``path`` is a FITS file carrying DATASUM/CHECKSUM keywords (all
    HDUs verified), ``None`` when there is nothing to verify."""
    import warnings

    from astropy.io import fits

    try:
        with open(path, "rb") as fh:
            if fh.read(6) != b"SIMPLE":
                return None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with fits.open(path, checksum=True, memmap=False) as hdul:
                has = any("CHECKSUM" in h.header or "DATASUM" in h.header for h in hdul)
                for h in hdul:
                    _ = h.data
        if not has:
            return None
        bad = [w for w in caught if "checksum" in str(w.message).lower() or "datasum" in str(w.message).lower()]
        return not bad
    except Exception:
        return False


def download_file(url: str, dest, *, size: int | None = None, headers: dict | None = None, timeout: float = 60.0,
                  retries: int = 3) -> dict:
    """Download ``url`` to ``dest``, resuming a ``dest.part`` left by an earlier attempt.

    Returns ``{"path", "bytes", "sha256", "resumed_from", "attempts"}``.  Raises
    :class:`DownloadError` when it cannot get a complete file that checks out.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    resumed_from = part.stat().st_size if part.exists() else 0
    last_error = "no attempt"
    for attempt in range(1, retries + 2):
        offset = part.stat().st_size if part.exists() else 0
        if size is not None and offset > size:
            part.unlink()
            offset = 0
        req_headers = dict(headers or {})
        if offset:
            req_headers["Range"] = f"bytes={offset}-"
        req = urllib.request.Request(url, headers=req_headers)
        digests: dict = {}
        total = size
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                code = resp.status
                digests = _expected_digests(resp.headers)
                if offset and code == 200:          # the server ignored the Range: start over
                    offset = 0
                crange = resp.headers.get("Content-Range", "")
                if code == 206 and "/" in crange and crange.rsplit("/", 1)[1].isdigit():
                    total = int(crange.rsplit("/", 1)[1])
                elif code == 200 and resp.headers.get("Content-Length", "").isdigit():
                    total = int(resp.headers["Content-Length"])
                with open(part, "ab" if offset else "wb") as fh:
                    while True:
                        try:
                            chunk = resp.read(CHUNK)
                        except http.client.IncompleteRead as exc:   # keep what did arrive
                            fh.write(exc.partial)
                            raise
                        if not chunk:
                            break
                        fh.write(chunk)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and offset:         # nothing left to send: the part may be whole
                total = size if size is not None else offset
            else:
                last_error = f"HTTP {exc.code} {exc.reason}"
                if 400 <= exc.code < 500 and exc.code not in (408, 429):
                    break
                time.sleep(min(2.0, 0.2 * attempt))
                continue
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:   # dropped, timed out
            last_error = f"{type(exc).__name__}: {exc}"
            log.info("download of %s interrupted (%s); resuming", dest.name, last_error)
            time.sleep(min(2.0, 0.1 * attempt))
            continue
        got = part.stat().st_size if part.exists() else 0
        want = size if size is not None else total
        if want is not None and got < want:
            last_error = f"incomplete: {got} of {want} bytes"
            continue
        problem = None
        if want is not None and got != want:
            problem = f"size {got} != expected {want}"
        sha = _file_hash(part)
        if problem is None and "sha256" in digests and digests["sha256"] != sha:
            problem = "SHA-256 differs from the server's"
        if problem is None and "md5" in digests and _file_hash(part, "md5") != digests["md5"]:
            problem = "MD5 differs from the server's"
        if problem is None and fits_checksum_ok(part) is False:
            problem = "FITS CHECKSUM/DATASUM do not verify"
        if problem is not None:
            last_error = problem
            log.warning("%s: %s; downloading it again", dest.name, problem)
            part.unlink()
            continue
        os.replace(part, dest)
        return {"path": str(dest), "bytes": got, "sha256": sha, "resumed_from": resumed_from, "attempts": attempt}
    raise DownloadError(f"{dest.name}: download failed ({last_error})")


def _read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text()).get("files", {})
    except (OSError, ValueError):
        return {}


def _write_manifest(folder: Path, files: dict, meta: dict) -> Path:
    path = folder / MANIFEST
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps({"format": "jwcal-download-1", **meta, "files": files}, indent=1, sort_keys=True) + "\n")
    return path


def download_products(products, dest, client: MastClient, *, retries: int = 3, verify_existing: bool = True,
                      progress=None) -> list[dict]:
    """Download ``products`` into ``dest``; files already complete and intact are skipped.

    Returns one record per product: ``{"file", "status" ("downloaded"|"present"|"failed"),
    "bytes", "sha256", "resumed_from", "message"}``.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    known = _read_manifest(dest)
    out = []
    headers = {"User-Agent": "jwcal-download"}
    if client.token:
        headers["Authorization"] = f"token {client.token}"
    for p in products:
        target = dest / p.filename
        rec = known.get(p.filename)
        if target.exists() and rec and (p.size is None or target.stat().st_size == p.size) \
                and target.stat().st_size == rec.get("bytes"):
            if not verify_existing or _file_hash(target) == rec.get("sha256"):
                out.append({"file": p.filename, "status": "present", "bytes": rec["bytes"], "sha256": rec["sha256"],
                            "resumed_from": 0, "message": ""})
                if progress:
                    progress(out[-1])
                continue
        try:
            res = download_file(client.file_url(p.uri), target, size=p.size, headers=headers, timeout=client.timeout,
                                retries=retries)
            known[p.filename] = {"bytes": res["bytes"], "sha256": res["sha256"], "uri": p.uri}
            out.append({"file": p.filename, "status": "downloaded", "bytes": res["bytes"], "sha256": res["sha256"],
                        "resumed_from": res["resumed_from"], "message": ""})
        except DownloadError as exc:
            out.append({"file": p.filename, "status": "failed", "bytes": 0, "sha256": None, "resumed_from": 0,
                        "message": str(exc)})
        _write_manifest(dest, known, {"source": client.base_url})
        if progress:
            progress(out[-1])
    return out


def query_products(program, client: MastClient, *, instruments=(), filters=(), observations=(),
                   types=("UNCAL",), use_astroquery: bool = False) -> list[Product]:
    """The products of ``program`` that match the selection."""
    rows = _astroquery_rows(program) if use_astroquery else None
    if rows is not None:
        obs_rows, prod_rows = rows
        chosen = {str(r.get("obsid")) for r in select_observations(obs_rows, instruments=instruments, filters=filters,
                                                                     observations=observations)}
        prod_rows = [r for r in prod_rows if str(r.get("parent_obsid") or r.get("obsID")) in chosen]
    else:
        obs_rows = client.observations(program)
        chosen_rows = select_observations(obs_rows, instruments=instruments, filters=filters, observations=observations)
        prod_rows = client.products([r.get("obsid") for r in chosen_rows]) if chosen_rows else []
    if not obs_rows:
        raise BadInputError(f"MAST has no JWST observations for program {program}")
    return select_products(prod_rows, types)
