"""Observable values in one canonical form per kind, so that equal things compare equal.

Each function takes the text as a feed or a sensor wrote it and returns the form the value
index keeps, or None when the text is not a value of that kind. Defanged forms are read as
what they stand for (``hxxp://``, ``[.]``, ``(.)``, ``[dot]``, ``[:]``, ``[@]``).

>>> address("2001:DB8:0:0:0:0:0:1"), address("::ffff:198.51.100.7"), address("10.0.0.9/8")
(('ipv6-addr', '2001:db8::1'), ('ipv4-addr', '198.51.100.7'), ('ipv4-net', '10.0.0.0/8'))
>>> domain("Evil.EXAMPLE."), domain("c2[.]example"), domain("bücher.example")
('evil.example', 'c2.example', 'xn--bcher-kva.example')
>>> url("HXXP://Evil.Example:80/a%2fb/%7euser?q=1#frag")
'http://evil.example/a%2Fb/~user?q=1'
>>> email("Alice@Mail.EXAMPLE"), hash_algorithm("sha256"), digest("SHA-256", "AB12")
('Alice@mail.example', 'SHA-256', 'ab12')
>>> registry_key("HKLM\\\\Software\\\\Run\\\\"), x509_serial("00:1A:2b"), mac("00-1A-2B-3C-4D-5E")
('hkey_local_machine\\\\software\\\\run', '1a2b', '00:1a:2b:3c:4d:5e')
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Final
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "address",
    "digest",
    "domain",
    "email",
    "hash_algorithm",
    "ipv4_number",
    "mac",
    "refang",
    "registry_key",
    "url",
    "x509_serial",
]

_FANGS: Final = re.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|\[:\]|\[@\]|\[at\]", re.I)
_SPACE: Final = re.compile(r"\s")
_FANG_OF: Final = {"[:]": ":", "[@]": "@", "[at]": "@"}


def refang(text: str) -> str:
    """*text* with the usual defanging undone (and surrounding white space removed)."""
    text = text.strip()
    if "[" in text or "(" in text or "{" in text:
        text = _FANGS.sub(lambda m: _FANG_OF.get(m.group(0).lower(), "."), text)
    low = text[:6].lower()
    if low.startswith(("hxxp", "hxxps", "fxp")):
        text = {"h": "http", "f": "ftp"}[low[0]] + text[4 if low[0] == "h" else 3 :]
    return text


#: Text that each normal form below would give back as it is (most of what feeds carry):
#: answered without the general rules (tests/cyber/test_observables.py holds them equal).
#: A dotted quad without leading zeros; a lower-case ASCII name (that does not begin as a
#: defanged scheme); a lower-case URL with a path of unreserved characters and slashes only.
_QUAD: Final = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
)
_NAME: Final = re.compile(r"(?!hxxp|fxp)[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
_URL: Final = re.compile(r"(?:https?|ftp)://[a-z0-9-]+(?:\.[a-z0-9-]+)*(/[A-Za-z0-9._~/-]*)?")


def address(text: str) -> tuple[str, str] | None:
    """(kind, canonical form) of an IP address or network: ``ipv4-addr``, ``ipv6-addr``,
    ``ipv4-net`` or ``ipv6-net``. Host bits of a network are cleared; a network of one
    address is that address; an IPv4-mapped IPv6 address is the IPv4 address."""
    if _QUAD.fullmatch(text):
        return ("ipv4-addr", text)
    return _address(text)


def ipv4_number(address: str) -> int:
    """The number of an IPv4 address written as a dotted quad (ValueError otherwise).

    >>> ipv4_number("0.0.1.2")
    258
    """
    if _QUAD.fullmatch(address):
        return int.from_bytes(socket.inet_aton(address), "big")
    return int(ipaddress.IPv4Address(address))


def _address(text: str) -> tuple[str, str] | None:
    text = refang(text)
    if "/" in text:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            return None
        if net.prefixlen < net.max_prefixlen:
            return (f"ipv{net.version}-net", net.with_prefixlen)
        ip: ipaddress.IPv4Address | ipaddress.IPv6Address = net.network_address
    else:
        try:
            ip = ipaddress.ip_address(text)
        except ValueError:
            return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (f"ipv{ip.version}-addr", ip.compressed)


def domain(text: str) -> str | None:
    """Lower case, no trailing dot, international names in their ASCII (IDNA) form."""
    if _NAME.fullmatch(text):
        return text
    return _domain(text)


def _domain(text: str) -> str | None:
    text = refang(text).lower().rstrip(".")
    if not text or "/" in text or _SPACE.search(text):
        return None
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            return text
    return text


_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ftp": 21}
_TRIPLET: Final = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _percent(part: str) -> str:
    """Percent-escapes in upper case; escapes of unreserved characters decoded."""

    def one(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()

    return _TRIPLET.sub(one, part)


def url(text: str) -> str:
    """Scheme and host in lower case, the default port and the fragment dropped, an empty
    path as ``/``, percent-escapes normalized. Text without a scheme keeps its path and has
    its host (up to the first ``/``) in lower case."""
    plain = _URL.fullmatch(text)
    if plain:
        return text if plain.group(1) else text + "/"
    return _url(text)


def _url(text: str) -> str:
    text = refang(text)
    if "://" not in text:
        host, slash, rest = text.partition("/")
        return host.lower().rstrip(".") + slash + rest
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return text
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if host and not host.isascii():
        host = domain(host) or host
    if ":" in host:
        host = f"[{host}]"
    netloc = host
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{host}"
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc += f":{port}"
    path = _percent(parts.path) or ("/" if netloc else "")
    return urlunsplit((scheme, netloc, path, _percent(parts.query), ""))


def email(text: str) -> str | None:
    """The domain part normalized as :func:`domain`; the local part as given (it may be
    case-sensitive)."""
    text = refang(text)
    local, at, host = text.rpartition("@")
    if not at or not local:
        return None
    normal = domain(host)
    return None if normal is None else f"{local}@{normal}"


_ALGORITHMS: Final = {
    "MD5": "MD5",
    "SHA1": "SHA-1",
    "SHA224": "SHA-224",
    "SHA256": "SHA-256",
    "SHA384": "SHA-384",
    "SHA512": "SHA-512",
    "SHA3224": "SHA3-224",
    "SHA3256": "SHA3-256",
    "SHA3384": "SHA3-384",
    "SHA3512": "SHA3-512",
    "SSDEEP": "SSDEEP",
    "TLSH": "TLSH",
}
_CASE_SENSITIVE: Final = frozenset({"SSDEEP"})


def hash_algorithm(name: str) -> str:
    """The STIX spelling of a hash algorithm's name (``sha256`` -> ``SHA-256``)."""
    squashed = name.upper().replace("-", "").replace("_", "").replace(" ", "")
    return _ALGORITHMS.get(squashed, name.upper())


def digest(algorithm: str, value: str) -> str:
    """A hash value: lower case hexadecimal (SSDEEP, which is base64, as given)."""
    value = value.strip()
    return value if hash_algorithm(algorithm) in _CASE_SENSITIVE else value.lower()


_HIVES: Final = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS",
    "HKCC": "HKEY_CURRENT_CONFIG",
}


def registry_key(text: str) -> str:
    """Hive abbreviations spelled out, lower case (the registry ignores case), no trailing
    backslash."""
    text = text.strip().replace("/", "\\")
    hive, sep, rest = text.partition("\\")
    hive = _HIVES.get(hive.upper(), hive)
    return (hive + sep + rest).rstrip("\\").lower()


def x509_serial(text: str) -> str:
    """Hexadecimal digits only, lower case, no leading zeros."""
    digits = "".join(c for c in text.lower() if c not in ": ")
    return digits.lstrip("0") or "0"


def mac(text: str) -> str:
    """Six lower-case pairs joined by colons."""
    digits = "".join(c for c in text.lower() if c not in ":-. ")
    if len(digits) == 12 and all(c in "0123456789abcdef" for c in digits):
        return ":".join(digits[i : i + 2] for i in range(0, 12, 2))
    return text.strip().lower()
