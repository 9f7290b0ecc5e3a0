"""Kizuna: a threat-intelligence exchange for allies and partners.

Each organization runs a node that keeps STIX 2.1 objects and serves them over TAXII 2.1;
every object says who may see it, and one access gate keeps that promise on every path out.
"""

__all__: list[str] = []

__version__ = "0.1.0"
