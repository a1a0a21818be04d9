"""``jwcal report RUN``: the run record as an HTML page with quick-look PNGs of the products."""

from __future__ import annotations

import html
from pathlib import Path

from ..atomic import atomic_path
from .quicklook import write_quicklook
from .record import read_manifest

STYLE = """body{font-family:sans-serif;margin:2em;color:#222} table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;vertical-align:top}
.ok,.up-to-date{color:#080}.failed{color:#b00}.skipped{color:#a60} img{max-width:420px;border:1px solid #999}
.grid{display:flex;flex-wrap:wrap;gap:16px} figure{margin:0} figcaption{font-size:12px}"""


def _catalog_xy(product: Path):
    cat = product.with_name(product.name.replace("_i2d.fits", "_cat.ecsv"))
    if not cat.exists():
        return None
    try:
        from astropy.table import Table

        t = Table.read(cat, format="ascii.ecsv")
        for xc, yc in (("xcentroid", "ycentroid"), ("x", "y")):
            if xc in t.colnames:
                return list(zip(t[xc], t[yc]))
    except Exception:
        return None
    return None


def render(run_file, out_html=None) -> Path:
    run_file = Path(run_file)
    doc = read_manifest(run_file)
    out_html = Path(out_html) if out_html else run_file.with_suffix(".html")
    img_dir = out_html.parent / (out_html.stem + "_png")
    img_dir.mkdir(parents=True, exist_ok=True)
    rows, figures = [], []
    for u in doc["units"]:
        refs = "<br>".join(f"{html.escape(k)}: {html.escape(Path(v['path']).name)} ({html.escape(v.get('source', ''))})"
                           for k, v in (u.get("references") or {}).items() if v)
        steps = ", ".join(f"{s[0]} {s[2]:.1f}s" for s in u.get("steps", []) if len(s) > 2)
        outs = "<br>".join(html.escape(Path(o["path"]).name) for o in u.get("outputs", []))
        rows.append(f"<tr><td>{html.escape(u['id'])}</td><td>{html.escape(u['pipeline'])}</td>"
                    f"<td class='{u['status']}'>{u['status']}</td><td>{u['seconds']:.1f}</td>"
                    f"<td>{outs}<br><small>{html.escape(u.get('message') or '')}</small></td>"
                    f"<td><small>{steps}</small></td><td><small>{refs}</small></td></tr>")
        for o in u.get("outputs", []):
            p = Path(o["path"])
            if p.suffix != ".fits" or not p.exists():
                continue
            png = write_quicklook(p, img_dir / (p.stem + ".png"), _catalog_xy(p))
            if png is not None:
                figures.append(f"<figure><img src='{img_dir.name}/{png.name}' alt='{html.escape(p.name)}'>"
                               f"<figcaption>{html.escape(p.name)}</figcaption></figure>")
    vers = ", ".join(f"{k} {v}" for k, v in doc.get("versions", {}).items())
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>jwcal run {html.escape(doc['started'])}</title>
<style>{STYLE}</style></head><body>
<h1>jwcal run</h1>
<p>started {html.escape(doc['started'])}, finished {html.escape(doc['finished'])}<br>
<code>{html.escape(' '.join(doc.get('command', [])))}</code><br><small>{html.escape(vers)}</small></p>
<table><tr><th>unit</th><th>pipeline</th><th>status</th><th>s</th><th>products</th><th>steps</th><th>references</th></tr>
{''.join(rows)}</table>
<h2>Quick looks</h2><div class="grid">{''.join(figures) or '<p>no image products</p>'}</div>
</body></html>"""
    with atomic_path(out_html) as tmp:
        tmp.write_text(page)
    return out_html
