"""CDMs in the CCSDS NDM/XML form (a ``<cdm>`` root, possibly inside ``<ndm>``): read and
write."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from kizuna.space.formats import _xml
from kizuna.space.formats._xml import leaf, local
from kizuna.space.formats.cdm._builder import _Builder, _Entry
from kizuna.space.formats.cdm._keywords import (
    _DATA_BLOCKS,
    _REL_POS,
    _REL_VEL,
    _RELATIVE,
    _data_blocks,
    _fmt,
    _metadata_items,
    _relative_items,
    _unit,
)
from kizuna.space.formats.cdm._model import Cdm, CdmError, format_epoch


def parse_xml(text: str, *, source: str = "<cdm>") -> Cdm:
    """Parse a CDM in the CCSDS NDM/XML form (``<cdm>`` root, possibly inside ``<ndm>``)."""
    try:
        root = _xml.parse(text)
    except ValueError as exc:
        raise CdmError(
            str(exc),
            source=source,
            expected='<cdm id="CCSDS_CDM_VERS" version="1.0"><header>...</header>'
            "<body>...</body></cdm>",
        ) from None
    cdm = (
        root
        if local(root.tag) == "cdm"
        else next((el for el in root.iter() if local(el.tag) == "cdm"), None)
    )
    if cdm is None:
        raise CdmError(
            f"no <cdm> element (root is <{local(root.tag)}>)",
            source=source,
            expected='<cdm id="CCSDS_CDM_VERS" version="1.0">',
        )
    sections: dict[str, list[_Entry]] = {
        "header": [
            _Entry("CCSDS_CDM_VERS", cdm.get("version", ""), None, "<cdm version>", "", "header")
        ]
    }

    def leaves(el: ET.Element, path: str, section: str, part: str, nested: Iterable[str]) -> None:
        for child in el:
            name = local(child.tag)
            where = f"<{path}/{name}>"
            if name in nested:
                leaves(child, f"{path}/{name}", section, part, ())
                continue
            if len(child):
                raise CdmError(
                    f"unexpected element <{name}> with children",
                    source=source,
                    where=where,
                    expected="a keyword element, e.g. <TCA>",
                )
            value = _xml.text(child)
            shown = (
                f"<{name}"
                + (f' units="{child.get("units")}"' if child.get("units") else "")
                + f">{value}</{name}>"
            )
            sections.setdefault(section, []).append(
                _Entry(name, value, child.get("units"), where, shown, part)
            )

    body = None
    for top in cdm:
        name = local(top.tag)
        if name == "header":
            leaves(top, "cdm/header", "header", "header", ())
        elif name == "body":
            body = top
        else:
            raise CdmError(
                f"unexpected element <{name}>",
                source=source,
                where="<cdm>",
                expected="<header> then <body>",
            )
    if body is None:
        raise CdmError(
            "no <body> element (truncated message?)",
            source=source,
            where="<cdm>",
            expected="<body><relativeMetadataData>...</relativeMetadataData>"
            "<segment>...</segment><segment>...</segment></body>",
        )
    for n, seg_or_rel in enumerate(body):
        name = local(seg_or_rel.tag)
        if name == "relativeMetadataData":
            leaves(
                seg_or_rel,
                "body/relativeMetadataData",
                "relative",
                "relative",
                ("relativeStateVector",),
            )
            continue
        if name != "segment":
            raise CdmError(
                f"unexpected element <{name}>",
                source=source,
                where="<body>",
                expected="<relativeMetadataData> then two <segment>",
            )
        obj = next((c for c in seg_or_rel.iter() if local(c.tag) == "OBJECT"), None)
        label = (obj.text or "").strip() if obj is not None else f"segment {n}"
        if label not in ("OBJECT1", "OBJECT2"):
            raise CdmError(
                f"segment without OBJECT1/OBJECT2 ({label!r})",
                source=source,
                where=f"<body/segment[{n}]>",
                expected="<OBJECT>OBJECT1</OBJECT>",
            )
        for part in seg_or_rel:
            pname = local(part.tag)
            if pname not in ("metadata", "data"):
                raise CdmError(
                    f"unexpected element <{pname}>",
                    source=source,
                    where=f"<body/segment[{n}]>",
                    expected="<metadata> then <data>",
                )
            leaves(part, f"body/segment[{n}]/{pname}", label, pname, _DATA_BLOCKS)
    return _Builder(source).build(sections)


def dumps_xml(cdm: Cdm) -> str:
    """Write a CDM in the CCSDS NDM/XML form."""
    root = ET.Element(
        "cdm",
        {
            "xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
            "xsi:noNamespaceSchemaLocation": "http://sanaregistry.org/r/ndmxml/ndmxml-1.0-master.xsd",
            "id": "CCSDS_CDM_VERS",
            "version": cdm.header.version,
        },
    )

    h, r = cdm.header, cdm.relative
    header = ET.SubElement(root, "header")
    for c in h.comments:
        leaf(header, "COMMENT", c)
    leaf(header, "CREATION_DATE", format_epoch(h.creation_date))
    leaf(header, "ORIGINATOR", h.originator)
    if h.message_for is not None:
        leaf(header, "MESSAGE_FOR", h.message_for)
    leaf(header, "MESSAGE_ID", h.message_id)
    body = ET.SubElement(root, "body")
    rel = ET.SubElement(body, "relativeMetadataData")
    comments = [*r.comments] + ([f"HBR = {_fmt(r.hbr_m)} [m]"] if r.hbr_m is not None else [])
    for c in comments:
        leaf(rel, "COMMENT", c)
    state: ET.Element | None = None
    for k, v in _relative_items(r):
        if k in _REL_POS or k in _REL_VEL:
            state = state if state is not None else ET.SubElement(rel, "relativeStateVector")
            leaf(state, k, v, _RELATIVE[k].unit)
        else:
            leaf(rel, k, v, _RELATIVE[k].unit)
    for o in (cdm.object1, cdm.object2):
        seg = ET.SubElement(body, "segment")
        meta = ET.SubElement(seg, "metadata")
        for c in o.metadata_comments:
            leaf(meta, "COMMENT", c)
        for k, v in _metadata_items(o):
            leaf(meta, k, v)
        data = ET.SubElement(seg, "data")
        for c in o.data_comments:
            leaf(data, "COMMENT", c)
        for block, items in _data_blocks(o):
            sub = ET.SubElement(data, block)
            for k, v in items:
                leaf(sub, k, v, _unit(k))
    return _xml.document(root)
