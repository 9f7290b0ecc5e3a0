"""OMMs in CCSDS NDM/XML (an ``<ndm>`` of ``<omm>`` elements, or one ``<omm>``): read."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kizuna.space._omm_keywords import _build
from kizuna.space._omm_model import ElementSet, OmmError, OmmResult


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_xml(text: str, *, source: str = "<omm>") -> OmmResult:
    """Read OMMs in CCSDS NDM/XML: an ``<ndm>`` wrapping ``<omm>`` elements, or one ``<omm>``."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return OmmResult(
            [],
            [
                OmmError(
                    f"not well-formed XML ({exc})",
                    source=source,
                    expected='<ndm><omm id="CCSDS_OMM_VERS" version="3.0">...</omm></ndm>',
                )
            ],
        )
    omms = [root] if _local(root.tag) == "omm" else [e for e in root if _local(e.tag) == "omm"]
    records: list[ElementSet] = []
    errors: list[OmmError] = []
    if not omms:
        errors.append(
            OmmError(
                f"no <omm> element under <{_local(root.tag)}>",
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
                name = _local(child.tag)
                if name.lower() in containers:
                    walk(child, where, items, comments)
                elif name == "COMMENT":
                    comments.append((child.text or "").strip())
                elif name == "USER_DEFINED":
                    items.append(
                        (
                            f"USER_DEFINED_{child.get('parameter', '')}",
                            (child.text or "").strip(),
                            where,
                        )
                    )
                else:
                    value = (child.text or "").strip()
                    unit = child.get("units")
                    items.append((name, f"{value} [{unit}]" if unit else value, where))

        walk(omm)
        try:
            records.append(_build(items, source=source, where=where, comments=comments))
        except OmmError as exc:
            errors.append(exc)
    return OmmResult(records, errors)
