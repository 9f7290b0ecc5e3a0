"""TAXII 2.1 media types: parsing ``Accept`` and ``Content-Type`` properly (params, q-values).

>>> acceptable("application/taxii+json;version=2.1")
True
>>> acceptable("text/html, application/xhtml+xml;q=0.9")
False
>>> acceptable("application/taxii+json;version=2.0")
False
>>> acceptable("*/*;q=0.1")
True
"""

from __future__ import annotations

__all__ = ["STIX", "TAXII", "acceptable", "is_taxii_content"]

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"


def _parse(value: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for part in value.split(","):
        pieces = [p.strip() for p in part.split(";")]
        mtype = pieces[0].lower()
        if not mtype:
            continue
        params = {}
        for p in pieces[1:]:
            if "=" in p:
                k, v = p.split("=", 1)
                params[k.strip().lower()] = v.strip().strip('"')
        out.append((mtype, params))
    return out


def _fits(mtype: str, params: dict[str, str]) -> bool:
    try:
        if float(params.get("q", "1")) <= 0:
            return False
    except ValueError:
        return False
    if mtype in ("*/*", "application/*"):
        return True
    if mtype == "application/taxii+json":
        return params.get("version", "2.1") == "2.1"
    return False


def acceptable(accept: str | None) -> bool:
    """Does an ``Accept`` header admit the TAXII 2.1 media type? A missing header does."""
    if accept is None or not accept.strip():
        return True
    return any(_fits(m, p) for m, p in _parse(accept))


def is_taxii_content(content_type: str | None) -> bool:
    """Is a request ``Content-Type`` the TAXII 2.1 media type?"""
    if not content_type:
        return False
    parsed = _parse(content_type)
    if len(parsed) != 1:
        return False
    mtype, params = parsed[0]
    return mtype == "application/taxii+json" and params.get("version", "2.1") == "2.1"
