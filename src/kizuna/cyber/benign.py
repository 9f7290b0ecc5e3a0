"""Known-benign values (as MISP's warninglists): shown as such, left out of matching.

Built in: the private, shared, loopback, link-local, multicast, reserved and documentation
ranges of IPv4 and IPv6, and the reserved domain names (``example.com``, ``.test``,
``.invalid``, ``.localhost``, ``.local``). An operator adds lists of their own
(``kizuna benign add DIR NAME FILE``): a file of one entry per line (an address or network,
a host name, which covers its subdomains, or any other value, matched exactly), or a MISP
warninglist (JSON with ``list`` and a ``type`` of ``cidr``, ``hostname``, ``string`` or
``substring``).

>>> from kizuna.cyber.observables import Observable
>>> benign = Benign.builtin()
>>> benign.check(Observable("ipv4-addr", "192.168.1.10", "ipv4-addr:value"))
'private addresses (RFC 1918)'
>>> benign.check(Observable("url", "http://www.example.com/x", "url:value"))
'reserved domain names (RFC 2606, RFC 6761)'
>>> benign.check(Observable("ipv4-addr", "8.8.8.8", "ipv4-addr:value")) is None
True
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from kizuna.cyber import normalize
from kizuna.cyber.observables import Observable

__all__ = ["BUILTIN", "LISTS_SETTING", "Benign", "BenignList", "operator_lists", "parse_list", "stored_benign"]

#: The node setting that holds the operator's lists (JSON: name -> list).
LISTS_SETTING: Final = "benign_lists"

_Net = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class BenignList:
    """A named list: networks, host names (and their subdomains), exact values, substrings."""

    name: str
    networks: tuple[str, ...] = ()
    hostnames: tuple[str, ...] = ()
    strings: tuple[str, ...] = ()
    substrings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "networks": list(self.networks),
            "hostnames": list(self.hostnames),
            "strings": list(self.strings),
            "substrings": list(self.substrings),
        }

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> BenignList:
        return cls(
            name,
            tuple(data.get("networks", ())),
            tuple(data.get("hostnames", ())),
            tuple(data.get("strings", ())),
            tuple(data.get("substrings", ())),
        )

    def __len__(self) -> int:
        return len(self.networks) + len(self.hostnames) + len(self.strings) + len(self.substrings)


BUILTIN: Final = (
    BenignList("private addresses (RFC 1918)", ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")),
    BenignList("shared address space (RFC 6598)", ("100.64.0.0/10",)),
    BenignList("loopback addresses", ("127.0.0.0/8", "::1/128")),
    BenignList("link-local addresses", ("169.254.0.0/16", "fe80::/10")),
    BenignList("multicast addresses", ("224.0.0.0/4", "ff00::/8")),
    BenignList(
        "reserved addresses",
        ("0.0.0.0/8", "240.0.0.0/4", "192.0.0.0/24", "198.18.0.0/15", "::/128", "100::/64"),
    ),
    BenignList(
        "documentation addresses (RFC 5737, RFC 3849)",
        ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"),
    ),
    BenignList("unique local addresses (RFC 4193)", ("fc00::/7",)),
    BenignList(
        "reserved domain names (RFC 2606, RFC 6761)",
        hostnames=(
            *("example.com", "example.net", "example.org", "example", "test", "invalid"),
            *("localhost", "local"),
        ),
    ),
)


@dataclass
class Benign:
    """Lists compiled for lookups: :meth:`check` tells which list holds an observable."""

    lists: list[BenignList] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Networks by family and prefix length: a lookup masks the address once per length.
        self._nets: dict[int, dict[int, dict[int, str]]] = {4: {}, 6: {}}
        self._hosts: dict[str, str] = {}
        self._strings: dict[str, str] = {}
        self._substrings: list[tuple[str, str]] = []
        for lst in self.lists:
            for text in lst.networks:
                net = ipaddress.ip_network(text, strict=False)
                by_len = self._nets[net.version].setdefault(net.prefixlen, {})
                by_len.setdefault(int(net.network_address), lst.name)
            for host in lst.hostnames:
                self._hosts.setdefault(normalize.domain(host) or host, lst.name)
            for text in lst.strings:
                self._strings.setdefault(text, lst.name)
            self._substrings.extend((s, lst.name) for s in lst.substrings)

    @classmethod
    def builtin(cls, extra: Iterable[BenignList] = ()) -> Benign:
        return cls([*BUILTIN, *extra])

    def _network(self, text: str) -> str | None:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return None
        value, bits = int(net.network_address), net.max_prefixlen
        for length, starts in self._nets[net.version].items():
            if length > net.prefixlen:
                continue
            masked = value >> (bits - length) << (bits - length) if length else 0
            name = starts.get(masked)
            if name is not None:
                return name
        return None

    def _host(self, host: str) -> str | None:
        host = host.lower().rstrip(".")
        if not host:
            return None
        if host.startswith("[") or host[0].isdigit() or ":" in host:
            found = self._network(host.strip("[]"))
            if found is not None:
                return found
        labels = host.split(".")
        for i in range(len(labels)):
            name = self._hosts.get(".".join(labels[i:]))
            if name is not None:
                return name
        return None

    def check(self, observable: Observable) -> str | None:
        """The name of a list that holds *observable*, or None."""
        kind, value = observable.kind, observable.value
        name = self._strings.get(value)
        if name is not None:
            return name
        for sub, list_name in self._substrings:
            if sub in value:
                return list_name
        if kind.startswith(("ipv4-", "ipv6-")):
            return self._network(value)
        if kind == "domain-name":
            return self._host(value)
        if kind == "email-addr":
            return self._host(value.rpartition("@")[2])
        if kind == "url":
            host = urlsplit(value).hostname if "://" in value else value.partition("/")[0]
            return self._host(host or "")
        return None


def parse_list(name: str, text: str) -> BenignList:
    """A list from a file's text: a MISP warninglist (JSON), or one entry per line (``#``
    starts a comment). Raises ValueError naming the entry that cannot be used."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return _warninglist(name, json.loads(text))
    networks: list[str] = []
    hostnames: list[str] = []
    strings: list[str] = []
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        found = normalize.address(entry)
        if found is not None:
            networks.append(found[1])
        elif "." in entry and " " not in entry and "/" not in entry and "@" not in entry:
            hostnames.append(normalize.domain(entry) or entry)
        else:
            strings.append(entry)
    return BenignList(name, tuple(networks), tuple(hostnames), tuple(strings))


def _warninglist(name: str, data: Any) -> BenignList:
    if not isinstance(data, dict) or not isinstance(data.get("list"), list):
        raise ValueError('a warninglist is a JSON object with "list": [...] and "type"')
    entries = [str(e) for e in data["list"]]
    kind = data.get("type", "string")
    if kind == "cidr":
        networks = []
        for entry in entries:
            found = normalize.address(entry)
            if found is None:
                raise ValueError(
                    f"{entry!r} is not an address or network (the list's type is cidr)"
                )
            networks.append(found[1])
        return BenignList(name, networks=tuple(networks))
    if kind == "hostname":
        return BenignList(name, hostnames=tuple(normalize.domain(e) or e for e in entries))
    if kind == "string":
        return BenignList(name, strings=tuple(entries))
    if kind == "substring":
        return BenignList(name, substrings=tuple(entries))
    raise ValueError(
        f"a warninglist of type {kind!r} cannot be used; expected cidr, hostname, string or "
        "substring"
    )


class _Settings(Protocol):
    def setting(self, key: str) -> str | None: ...


def operator_lists(store: _Settings) -> dict[str, BenignList]:
    """The lists the operator added (``kizuna benign add``), by name."""
    raw = json.loads(store.setting(LISTS_SETTING) or "{}")
    return {name: BenignList.from_json(name, data) for name, data in raw.items()}


def stored_benign(store: _Settings) -> Benign:
    """The built-in lists and the operator's, as the node's store holds them now."""
    return Benign.builtin(operator_lists(store).values())
