"""``jwcal download`` against a loopback HTTP server (127.0.0.1 only) serving files this test
wrote, speaking the two MAST API services and the download endpoint.

The server can drop a transfer half-way (the client must resume with an HTTP Range request),
corrupt a file once (the FITS checksums must catch it and the file be fetched again), or
ignore Range requests (the client must start the file over).  No other address is contacted:
proxy variables are removed so urllib talks to 127.0.0.1 directly.
"""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from astropy.io import fits

from jwcore.survey.download import MastClient, download_file, query_products


def _fits_bytes(path, seed):
    rng = np.random.default_rng(seed)
    hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(rng.normal(size=(160, 160)).astype(np.float32), name="SCI")])
    hdul.writeto(path, checksum=True)
    return path.read_bytes()


class Mast:
    """The fake archive: observations, products, file bytes and what happened."""

    def __init__(self, tmp_path):
        self.files = {}
        self.obs = [
            {"obsid": "9001", "obs_id": "jw01234-o001_t001_nircam_clear-f200w", "instrument_name": "NIRCAM/IMAGE",
             "filters": "F200W;CLEAR", "proposal_id": "1234"},
            {"obsid": "9002", "obs_id": "jw01234-o002_t001_miri_f770w", "instrument_name": "MIRI/IMAGE",
             "filters": "F770W", "proposal_id": "1234"},
        ]
        self.products = {"9001": [], "9002": []}
        for obsid, det in (("9001", "nrca1"), ("9002", "mirimage")):
            for k in (1, 2):
                for sub in ("uncal", "cal"):
                    name = f"jw01234{'001' if obsid == '9001' else '002'}001_01101_0000{k}_{det}_{sub}.fits"
                    data = _fits_bytes(tmp_path / name, seed=len(self.files))
                    self.files[name] = data
                    self.products[obsid].append({
                        "productFilename": name, "dataURI": f"mast:JWST/product/{name}", "size": len(data),
                        "productSubGroupDescription": sub.upper(), "productType": "SCIENCE", "obs_id": name[:-5],
                        "calib_level": 1 if sub == "uncal" else 2, "parent_obsid": obsid})
            self.products[obsid].append({"productFilename": "preview.jpg", "dataURI": "mast:JWST/product/preview.jpg",
                                         "size": 3, "productSubGroupDescription": "PREVIEW", "productType": "PREVIEW"})
        self.drop = set()        # names whose next full GET is cut half-way
        self.corrupt = set()     # names whose next GET is corrupted
        self.ignore_range = False
        self.log = []            # (method, what, range header)


def make_handler(mast):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _json(self, doc):
            body = json.dumps(doc).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            if self.path != "/api/v0/invoke":
                self.send_error(404)
                return
            form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            req = json.loads(form["request"][0])
            mast.log.append(("POST", req["service"], None))
            if req["service"] == "Mast.Caom.Filtered":
                f = {x["paramName"]: x["values"] for x in req["params"]["filters"]}
                rows = [o for o in mast.obs if o["proposal_id"] in f.get("proposal_id", [])]
            elif req["service"] == "Mast.Caom.Products":
                rows = [p for i in req["params"]["obsid"].split(",") for p in mast.products.get(i, [])]
            else:
                self._json({"status": "ERROR", "msg": "unknown service"})
                return
            size, page = req.get("pagesize", 5000), req.get("page", 1)
            pages = max(1, -(-len(rows) // size))
            self._json({"status": "COMPLETE", "data": rows[(page - 1) * size: page * size],
                        "paging": {"page": page, "pageSize": size, "pagesFiltered": pages, "rowsTotal": len(rows)}})

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            if url.path != "/api/v0.1/Download/file":
                self.send_error(404)
                return
            name = urllib.parse.parse_qs(url.query)["uri"][0].rsplit("/", 1)[-1]
            rng = self.headers.get("Range")
            mast.log.append(("GET", name, rng))
            data = mast.files.get(name)
            if data is None:
                self.send_error(404)
                return
            if name in mast.corrupt:
                mast.corrupt.discard(name)
                mid = len(data) // 2             # inside the SCI data (the tail is padding)
                data = data[:mid] + bytes(b ^ 0xFF for b in data[mid:mid + 64]) + data[mid + 64:]
            start = 0
            if rng and not mast.ignore_range:
                start = int(rng.split("=")[1].split("-")[0])
                if start >= len(data):
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(data)}")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if name in mast.drop and start == 0:
                mast.drop.discard(name)
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(body)

    return Handler


@pytest.fixture
def server(tmp_path, monkeypatch):
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    archive = tmp_path / "archive"
    archive.mkdir()
    mast = Mast(archive)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(mast))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    mast.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield mast
    httpd.shutdown()
    httpd.server_close()


def cli(args, capsys):
    from jwcore.cli.main import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def test_download_resumes_and_checks(server, tmp_path, capsys):
    nrc_uncal = "jw01234001001_01101_00001_nrca1_uncal.fits"
    nrc_cal = "jw01234001001_01101_00002_nrca1_cal.fits"
    server.drop.add(nrc_uncal)
    server.corrupt.add(nrc_cal)
    dest = tmp_path / "raw"
    code, err = cli(["download", "1234", "-o", dest, "--mast-url", server.url, "-i", "nircam", "-p", "uncal",
                     "-p", "cal"], capsys)
    assert code == 0, err
    got = sorted(p.name for p in dest.glob("*.fits"))
    want = sorted(n for n in server.files if "nrca1" in n)
    assert got == want                                  # NIRCam only; uncal and cal; no preview
    for n in want:
        assert (dest / n).read_bytes() == server.files[n]
    assert not list(dest.glob("*.part"))
    gets = [entry for entry in server.log if entry[0] == "GET"]
    resumed = [r for m, n, r in gets if n == nrc_uncal and r]
    assert resumed and int(resumed[0].split("=")[1].rstrip("-")) > 0     # resumed with Range
    assert sum(1 for m, n, r in gets if n == nrc_cal) == 2                 # corrupted once, fetched again
    manifest = json.loads((dest / "download_manifest.json").read_text())
    assert set(manifest["files"]) == set(want)
    # a second run downloads nothing
    before = len([e for e in server.log if e[0] == "GET"])
    code, err = cli(["download", "1234", "-o", dest, "--mast-url", server.url, "-i", "nircam", "-p", "uncal",
                     "-p", "cal"], capsys)
    assert code == 0 and err.count("present") == 4
    assert len([e for e in server.log if e[0] == "GET"]) == before


def test_leftover_part_and_server_without_range(server, tmp_path):
    name = "jw01234002001_01101_00001_mirimage_uncal.fits"
    data = server.files[name]
    client = MastClient(server.url, page_size=1)          # one row per page: paging is followed
    prods = query_products(1234, client, instruments=["MIRI"], types=["UNCAL"])
    assert [p.filename for p in prods] == sorted(n for n in server.files if "mirimage_uncal" in n)
    dest = tmp_path / "d" / name
    dest.parent.mkdir()
    (dest.parent / (name + ".part")).write_bytes(data[:1000])
    res = download_file(client.file_url(prods[0].uri), dest, size=len(data))
    assert dest.read_bytes() == data and res["resumed_from"] == 1000
    assert server.log[-1] == ("GET", name, "bytes=1000-")
    # a server that ignores Range: the file is started over, still right
    server.ignore_range = True
    dest.unlink()
    (dest.parent / (name + ".part")).write_bytes(data[:1000])
    download_file(client.file_url(prods[0].uri), dest, size=len(data))
    assert dest.read_bytes() == data
    # a file that never checks out fails after the retries
    server.ignore_range = False
    server.corrupt.update({name})
    bad = tmp_path / "bad" / name
    with pytest.raises(Exception, match="download failed"):
        download_file(client.file_url(prods[0].uri), bad, size=len(data) + 5, retries=1)


def test_dry_run_lists(server, tmp_path, capsys):
    from jwcore.cli.main import main

    code = main(["download", "1234", "-o", str(tmp_path / "x"), "--mast-url", server.url, "--obs", "2", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0 and out.count("mirimage_uncal") == 2 and "nrca1" not in out
    assert not (tmp_path / "x").exists()
