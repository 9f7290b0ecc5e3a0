"""STIX 2.1: validation at the door, identifiers, markings, timestamps, extensions."""

__all__: list[str] = []
