"""CCSDS NDM/XML, read and written the one way OMM and CDM both use (ElementTree).

NDM/XML elements carry no namespace of their own, but producers add one; readers compare
:func:`local` names. A document with a DTD is refused: NDM/XML has none, and entity
declarations are how a small file expands into a huge one.

>>> root = parse('<ndm><omm id="CCSDS_OMM_VERS"><x units="km"> 1 </x></omm></ndm>')
>>> [local(e.tag) for e in root.iter()], text(root[0][0])
(['ndm', 'omm', 'x'], '1')
>>> parse("<a><b></a>")
Traceback (most recent call last):
...
ValueError: not well-formed XML (mismatched tag: line 1, column 8)
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

__all__ = ["document", "leaf", "local", "parse", "text"]

_DTD = re.compile(r"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def local(tag: str) -> str:
    """An element's name without its namespace (``{uri}name`` -> ``name``)."""
    return tag.rsplit("}", 1)[-1]


def parse(source: str) -> ET.Element:
    """The root element of an XML text; ValueError when it is not well-formed or has a DTD."""
    if _DTD.search(source):
        raise ValueError("a DTD or entity declaration (NDM/XML has none)")
    try:
        return ET.fromstring(source)
    except ET.ParseError as exc:
        raise ValueError(f"not well-formed XML ({exc})") from None


def text(element: ET.Element) -> str:
    """An element's text, stripped ('' when it has none)."""
    return (element.text or "").strip()


def leaf(parent: ET.Element, tag: str, value: str, units: str | None = None) -> ET.Element:
    """Append ``<tag units="...">value</tag>`` to *parent*."""
    element = ET.SubElement(parent, tag, {"units": units} if units else {})
    element.text = value
    return element


def document(root: ET.Element) -> str:
    """The text of a whole document: declaration, indented elements, final newline."""
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"
