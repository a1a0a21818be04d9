"""Built-in plugin: select references through the CRDS client, when the user has CRDS.

It answers :func:`~jwcore.hookspecs.jwcal_select_reference` first (``tryfirst``) when

* the ``crds`` package can be imported (it is *not* a jwcal dependency: imported lazily,
  its absence simply means "not configured"),
* ``CRDS_PATH`` is set (the CRDS cache), and
* the cache is usable: it holds the client's ``config/<observatory>/server_config``, or
  ``CRDS_SERVER_URL`` names a real server (a URL containing ``serverless`` means "no server",
  as in the offline set-ups of the jwst test suites),

and ``JWCAL_CRDS`` is not ``0``/``off``/``no`` (an explicit opt-out).  ``CRDS_SERVER_URL``,
``CRDS_CONTEXT`` (a ``.pmap`` name, ``latest``...), ``CRDS_MODE`` and ``CRDS_OBSERVATORY``
(default ``jwst``) are read by the client itself.  Otherwise it returns ``None`` and the local
store answers.

The exposure's CRDS parameters are its metadata leaves under both their data-model paths
(``meta.instrument.detector``) and their FITS keywords (``DETECTOR``, from
``jwcore/datamodel/keywords.json``), as ``jwst`` passes ``get_crds_parameters()``.  The
answer is a :class:`~jwcore.refs.Selection` with ``source="crds"`` and ``context`` set to the
``.pmap`` used (the runner may record it as ``meta.ref_file.crds.context_used``); ``"N/A"``
when the rules say the reftype does not apply.  When CRDS has no rule or no match for the
reftype, it logs a warning and returns ``None`` so the next selector may answer; when CRDS
chose a file that cannot be obtained, that is an error.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..errors import ReferenceFileError
from ..hookspecs import hookimpl
from . import Selection

log = logging.getLogger("jwcal.refs.crds")

_OFF = {"0", "off", "no", "false", "n", "f"}
_MISSING = object()
_crds_module = _MISSING


def observatory() -> str:
    return (os.environ.get("CRDS_OBSERVATORY") or "jwst").strip().lower()


def _import_crds():
    """The ``crds`` module, or ``None`` when it is not installed (or fails to import)."""
    global _crds_module
    if _crds_module is _MISSING:
        try:
            import crds  # noqa: PLC0415  (optional, lazily imported)

            _crds_module = crds
        except Exception as exc:  # not installed, or broken: CRDS is simply not available
            log.debug("crds client not importable (%s); CRDS selection disabled", exc)
            _crds_module = None
    return _crds_module


def crds_configured() -> bool:
    """True when the environment asks for CRDS and the client and its cache can work."""
    if os.environ.get("JWCAL_CRDS", "").strip().lower() in _OFF:
        return False
    path = os.environ.get("CRDS_PATH", "").strip()
    if not path:
        return False
    server = os.environ.get("CRDS_SERVER_URL", "")
    has_config = (Path(path).expanduser() / "config" / observatory() / "server_config").is_file()
    if "serverless" in server and not has_config:
        return False
    return _import_crds() is not None


def crds_parameters(meta) -> dict:
    """The exposure's header parameters for CRDS: data-model paths and FITS keywords."""
    from ..datamodel.keywords import KEYWORDS

    flat = meta.to_flat_dict() if hasattr(meta, "to_flat_dict") else dict(meta)
    params: dict = {}
    for path, value in flat.items():
        if value is None or not isinstance(value, (str, int, float, bool)):
            continue
        params[path.lower()] = value
        kw = KEYWORDS.keyword_for(path)
        if kw is not None and kw[1] == "PRIMARY":
            params.setdefault(kw[0], value)
    return params


def context_in_use() -> str:
    """The ``.pmap`` the client resolves for this environment (``CRDS_CONTEXT`` or the cache's)."""
    from crds.core import heavy_client  # noqa: PLC0415

    _mode, context = heavy_client.get_processing_mode(observatory(), os.environ.get("CRDS_CONTEXT") or None)
    return str(context)


def _is_not_found(value) -> bool:
    return isinstance(value, str) and value.strip().upper().startswith("NOT FOUND")


@hookimpl(tryfirst=True)
def jwcal_select_reference(reftype, meta, context):
    if not crds_configured():
        return None
    crds = _import_crds()
    obs = observatory()
    params = crds_parameters(meta)
    try:
        pmap = context_in_use()
        best = crds.getrecommendations(params, reftypes=[reftype], context=pmap, observatory=obs)
    except (Exception, SystemExit) as exc:  # client errors (no rules, bad cache; it may sys.exit)
        log.warning("CRDS could not select a %s reference (%s: %s); trying the next selector",
                    reftype.upper(), type(exc).__name__, exc)
        return None
    name = best.get(reftype) if isinstance(best, dict) else None
    if name is None:
        log.warning("CRDS context %s has no rules for %s; trying the next selector", pmap, reftype.upper())
        return None
    if _is_not_found(name):
        if name.strip().upper() == "NOT FOUND N/A":        # the rules say: does not apply
            log.info("CRDS (%s): %s is not applicable to this exposure", pmap, reftype.upper())
            return "N/A"
        log.warning("CRDS (%s) found no %s reference: %s; trying the next selector",
                    pmap, reftype.upper(), name[len("NOT FOUND"):].strip())
        return None
    try:
        paths = crds.getreferences(params, reftypes=[reftype], context=pmap, observatory=obs)
        path = paths[reftype]
    except (Exception, SystemExit) as exc:
        raise ReferenceFileError(
            f"CRDS ({pmap}) selected {name} as the {reftype} reference but it could not be "
            f"obtained: {type(exc).__name__}: {exc}") from None
    if not isinstance(path, str) or not Path(path).is_file():
        raise ReferenceFileError(
            f"CRDS ({pmap}) selected {name} as the {reftype} reference but it is not in the "
            f"CRDS cache {os.environ.get('CRDS_PATH')} and could not be downloaded")
    return Selection(str(Path(path).resolve()), source="crds", context=pmap)
