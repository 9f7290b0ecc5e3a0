"""Observables as the 64-bit keys the store's value index holds (``schema.value_index``).

The index is inverted: one entry per (value, stored version that carries it), never one per
pair of objects, so it grows with values and objects. A key is a BLAKE2b hash of the kind
and the normalized value, except for IPv4 addresses: those are ``IPV4_BASE + address``, the
lowest 2**32 keys, in address order, so that the addresses inside a network are one range of
keys (a hash that would fall there is moved out of it). A key may be shared by two values:
whoever reads the index checks the values of what it finds.

>>> value_key("ipv4-addr", "0.0.0.1") - IPV4_BASE
1
>>> network_range("198.51.100.0/24") == (value_key("ipv4-addr", "198.51.100.0"),
...                                      value_key("ipv4-addr", "198.51.100.255"))
True
>>> len(holder_keys("ipv4-addr", "198.51.100.7"))  # the networks /0 to /31 that hold it
32
"""

from __future__ import annotations

import ipaddress
import struct
from hashlib import blake2b
from typing import Any, Final

import msgspec

from kizuna.cyber.normalize import ipv4_number
from kizuna.cyber.observables import Observable, found_values

__all__ = [
    "INDEXED_TYPES",
    "IPV4_BASE",
    "KEY_VERSION",
    "body_keys",
    "holder_keys",
    "network_range",
    "observable_key",
    "value_key",
]

IPV4_BASE: Final = -(2**63)
#: The form of the keys :func:`body_keys` makes, recorded by the store beside its index: a
#: store whose index holds keys of another form fills it again when it opens. Raise it with
#: any change that would give a stored object other keys (its observables, their normal
#: forms, the hashing). The keys have had this form since the index began (35b50df; b27ff3e
#: made the same keys faster), so a store that records no form holds this one.
KEY_VERSION: Final = 1
_IPV4_END: Final = IPV4_BASE + 2**32
_SIGNED: Final = struct.Struct(">q").unpack  # eight bytes, big-endian, as a signed number

#: Types whose objects can carry observables (others are not read at ingest at all).
INDEXED_TYPES: Final = frozenset(
    {
        *("indicator", "observed-data", "ipv4-addr", "ipv6-addr", "domain-name", "url"),
        *("email-addr", "mac-addr", "autonomous-system", "file", "directory", "artifact"),
        *("mutex", "windows-registry-key", "x509-certificate", "user-account", "software"),
        "network-traffic",
    }
)


#: kind -> the hash with ``kind + "\x00"`` already taken in (a copy of it takes the value:
#: the hash of the two together, without hashing the kind again). Kinds are few but for
#: the ``type:path`` of unknown paths, so only the first few hundred are kept.
_KINDS: Final[dict[str, Any]] = {}


def value_key(kind: str, value: str) -> int:
    """The key of a normalized value of *kind*.

    >>> value_key("domain-name", "c2.example") == int.from_bytes(
    ...     blake2b(b"domain-name\\x00c2.example", digest_size=8).digest(), "big", signed=True)
    True
    """
    if kind == "ipv4-addr":
        return IPV4_BASE + ipv4_number(value)
    started = _KINDS.get(kind)
    if started is None:
        started = blake2b((kind + "\x00").encode(), digest_size=8)
        if len(_KINDS) < 512:
            _KINDS[kind] = started
    h = started.copy()
    h.update(value.encode())
    key: int = _SIGNED(h.digest())[0]
    return key + 2**32 if key < _IPV4_END else key


def observable_key(o: Observable) -> int:
    return value_key(o.kind, o.value)


def holder_keys(kind: str, value: str) -> list[int]:
    """Keys of the networks that hold an address or network (each shorter prefix)."""
    if kind not in ("ipv4-addr", "ipv6-addr", "ipv4-net", "ipv6-net"):
        return []
    net = ipaddress.ip_network(value, strict=False)
    family = f"ipv{net.version}-net"
    return [
        value_key(family, net.supernet(new_prefix=p).with_prefixlen) for p in range(net.prefixlen)
    ]


def network_range(network: str) -> tuple[int, int] | None:
    """The first and last keys of the IPv4 addresses inside *network* (None for IPv6)."""
    net = ipaddress.ip_network(network, strict=False)
    if net.version != 4:
        return None
    return (IPV4_BASE + int(net.network_address), IPV4_BASE + int(net.broadcast_address))


def body_keys(stix_type: str, body: bytes, parsed: Any = None) -> list[int]:
    """The value keys of one stored object, each once: the store's ingest hook. *parsed* is
    what *body* decodes to, when the caller has it (then the body is not decoded again)."""
    if stix_type not in INDEXED_TYPES:
        return []
    obj = parsed
    if obj is None:
        try:
            obj = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return []
    found = found_values(obj)
    if len(found) == 1:
        return [value_key(found[0][0], found[0][1])]
    return sorted({value_key(kind, value) for kind, value, _ in found})
