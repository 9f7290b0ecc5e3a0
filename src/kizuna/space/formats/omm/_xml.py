"""OMMs in CCSDS NDM/XML (an ``<ndm>`` of ``<omm>`` elements, or one ``<omm>``): read."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kizuna.space.formats import _xml
from kizuna.space.formats._xml import local
from kizuna.space.formats.omm._keywords import _build
from kizuna.space.formats.omm._model import ElementSet, OmmError, OmmResult


def parse_xml(text: str, *, source: str = "<omm>") -> OmmResult:
    """Read OMMs in CCSDS NDM/XML: an ``<ndm>`` wrapping ``<omm>`` elements, or one ``<omm>``."""
    try:
        root = _xml.parse(text)
    except ValueError as exc:
        return OmmResult(
            [],
            [
                OmmError(
                    str(exc),
                    source=source,
                    expected='<ndm><omm id="CCSDS_OMM_VERS" version="3.0">...</omm></ndm>',
                )
            ],
        )
    omms = [root] if local(root.tag) == "omm" else [e for e in root if local(e.tag) == "omm"]
    records: list[ElementSet] = []
    errors: list[OmmError] = []
    if not omms:
        errors.append(
            OmmError(
                f"no <omm> element under <{local(root.tag)}>",
                source=source,
                expected="<ndm><omm>...</omm></ndm>",
            )
        )
    containers = {
        "header",
        "body",
        "segment",
        "metadata",
        "data",
        "meanelements",
        "tleparameters",
        "userdefinedparameters",
        "spacecraftparameters",
        "covariancematrix",
    }
    for index, omm in enumerate(omms, start=1):
        items: list[tuple[str, str, str]] = []
        comments: list[str] = []
        where = f"<omm> #{index}"

        def walk(
            el: ET.Element,
            where: str = where,
            items: list[tuple[str, str, str]] = items,
            comments: list[str] = comments,
        ) -> None:
            for child in el:
                name = local(child.tag)
                if name.lower() in containers:
                    walk(child, where, items, comments)
                elif name == "COMMENT":
                    comments.append(_xml.text(child))
                elif name == "USER_DEFINED":
                    items.append(
                        (
                            f"USER_DEFINED_{child.get('parameter', '')}",
                            _xml.text(child),
                            where,
                        )
                    )
                else:
                    value = _xml.text(child)
                    unit = child.get("units")
                    items.append((name, f"{value} [{unit}]" if unit else value, where))

        walk(omm)
        try:
            records.append(_build(items, source=source, where=where, comments=comments))
        except OmmError as exc:
            errors.append(exc)
    return OmmResult(records, errors)
