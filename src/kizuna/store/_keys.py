"""The id key: a STIX id as the 64-bit integer that the store's id index holds.

Real STIX ids are random (version-4 UUIDs), so every new object lands on a page of the id
index of its own, and SQLite writes each changed page whole to its log and copies it again at
the checkpoint. An index of 64-bit keys holds about 30 bytes per version where one of
``(stix_id, collection_id, ...)`` held about 110: fewer pages change per commit (fewer
splits), the checkpoint copies fewer distinct ones, and the index stays cached (docs/benchmarks.md, 'Figures behind the code's design').
SQLite enters new ids in the index later, in sorted batches (``store/_recent.py``), in a table
of its own (``schema.id_index``).

A key is a hash, so two ids may share one: every query by id asks for the key *and* the id,
and the key only finds the candidate rows. The hash is BLAKE2b, so ids made to collide
cost their maker about 2**32 tries and gain nothing but a slower lookup of their own ids.

>>> id_key("indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
1618722892265949956
>>> id_key("malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f")
-7714670425120881758
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import blake2b

__all__ = ["id_key", "id_keys"]


def id_key(stix_id: str) -> int:
    """The signed 64-bit key of *stix_id* (it fits SQLite's INTEGER and PostgreSQL's BIGINT)."""
    return int.from_bytes(blake2b(stix_id.encode(), digest_size=8).digest(), "big", signed=True)


def id_keys(stix_ids: Iterable[str]) -> list[int]:
    """The keys of *stix_ids*, without repeats, sorted (index order)."""
    return sorted({id_key(i) for i in stix_ids})
