"""Observables of STIX objects, their normal forms, known-benign lists and value keys."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.cyber.benign import Benign, parse_list
from kizuna.cyber.normalize import address, domain, email, url
from kizuna.cyber.observables import Observable, observables
from kizuna.cyber.pattern import ObservationExpr
from kizuna.cyber.values import IPV4_BASE, body_keys, holder_keys, network_range, value_key
from tests.cyber._generate import batches, pattern_text, patterns


def kinds(obj: dict[str, object]) -> list[tuple[str, str]]:
    return [(o.kind, o.value) for o in observables(obj)]


def test_every_hash_algorithm_of_a_file_and_its_name() -> None:
    obj = {
        "type": "file",
        "name": "Evil.exe",
        "hashes": {
            "MD5": "AA",
            "sha256": "BB",
            "SHA3-256": "CC",
            "SSDEEP": "3:Ab:Cd",
            "x-own": "D",
        },
    }
    assert kinds(obj) == [
        ("file-name", "Evil.exe"),
        ("hash:MD5", "aa"),
        ("hash:SHA-256", "bb"),
        ("hash:SHA3-256", "cc"),
        ("hash:SSDEEP", "3:Ab:Cd"),
        ("hash:X-OWN", "d"),
    ]


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"type": "ipv6-addr", "value": "2001:0DB8::0001"}, [("ipv6-addr", "2001:db8::1")]),
        ({"type": "ipv4-addr", "value": "10.1.2.3/8"}, [("ipv4-net", "10.0.0.0/8")]),
        ({"type": "ipv4-addr", "value": "10.1.2.3/32"}, [("ipv4-addr", "10.1.2.3")]),
        ({"type": "domain-name", "value": "C2.Example."}, [("domain-name", "c2.example")]),
        ({"type": "url", "value": "HTTPS://A.example:443"}, [("url", "https://a.example/")]),
        ({"type": "email-addr", "value": "Bob@EXAMPLE.org"}, [("email-addr", "Bob@example.org")]),
        ({"type": "mutex", "name": "Global\\x"}, [("mutex", "Global\\x")]),
        (
            {"type": "windows-registry-key", "key": "HKCU\\Software\\X"},
            [("windows-registry-key", "hkey_current_user\\software\\x")],
        ),
        ({"type": "x509-certificate", "serial_number": "0A:0b"}, [("x509-serial", "a0b")]),
        ({"type": "autonomous-system", "number": 64496}, [("autonomous-system", "64496")]),
        (
            {
                "type": "network-traffic",
                "extensions": {"http-request-ext": {"request_header": {"User-Agent": "Bad/1"}}},
            },
            [("user-agent", "Bad/1")],
        ),
        ({"type": "ipv4-addr", "value": "not an address"}, []),
        ({"type": "malware", "name": "x.exe"}, []),
    ],
)
def test_objects_of_each_kind(obj: dict[str, object], expected: list[tuple[str, str]]) -> None:
    assert kinds(obj) == expected


def test_indicator_patterns_carry_their_comparison_values() -> None:
    pattern = (
        "[ipv4-addr:value = '203.0.113.5'] AND [file:hashes.'SHA-256' = 'AB' OR "
        "file:name IN ('a.exe', 'b.exe')] AND [email-message:from_ref.value = 'x@Y.example'] "
        "AND [process:name = 'evil' AND process:pid != 4] AND "
        "[ipv4-addr:value ISSUBSET '198.51.100.0/24' AND ipv4-addr:value NOT = '1.1.1.1']"
    )
    assert kinds({"type": "indicator", "pattern_type": "stix", "pattern": pattern}) == [
        ("ipv4-addr", "203.0.113.5"),
        ("hash:SHA-256", "ab"),
        ("file-name", "a.exe"),
        ("file-name", "b.exe"),
        ("email-addr", "x@y.example"),
        ("process:name", "evil"),
        ("ipv4-net", "198.51.100.0/24"),
    ]
    assert kinds({"type": "indicator", "pattern_type": "sigma", "pattern": "x"}) == []
    assert kinds({"type": "indicator", "pattern": "[not a pattern"}) == []


def test_observed_data_carries_its_embedded_objects() -> None:
    obj = {"type": "observed-data", "objects": {"0": {"type": "domain-name", "value": "A.example"}}}
    assert kinds(obj) == [("domain-name", "a.example")]


def test_normal_forms_refang_and_refuse() -> None:
    assert address("198.51.100[.]7") == ("ipv4-addr", "198.51.100.7")
    assert address("999.1.1.1") is None and domain("two words") is None
    assert email("no-at-sign") is None
    assert url("hxxps://x[.]example/a?b=%7e") == "https://x.example/a?b=~"
    assert url("x[.]example/PATH") == "x.example/PATH"


def test_builtin_and_operator_benign_lists() -> None:
    extra = parse_list("cdn", "# ranges\n192.0.2.0/25\ncdn.partner.net\nliteral value\n")
    assert len(extra) == 3
    benign = Benign.builtin([extra, parse_list("mx", '{"type": "substring", "list": ["mail"]}')])
    check = benign.check
    assert check(Observable("ipv6-addr", "2001:db8::1", "")) == (
        "documentation addresses (RFC 5737, RFC 3849)"
    )
    assert check(Observable("ipv4-addr", "172.31.255.255", "")) == "private addresses (RFC 1918)"
    assert check(Observable("ipv4-addr", "172.32.0.1", "")) is None
    assert check(Observable("ipv4-net", "10.0.0.0/7", "")) is None  # wider than the list
    assert check(Observable("domain-name", "a.cdn.partner.net", "")) == "cdn"
    assert check(Observable("domain-name", "xcdn.partner.net", "")) is None
    assert check(Observable("email-addr", "x@host.test", "")) is not None
    assert check(Observable("url", "http://[::1]:8080/", "")) == "loopback addresses"
    assert check(Observable("mutex", "literal value", "")) == "cdn"
    assert check(Observable("domain-name", "mail.evil", "")) == "mx"
    with pytest.raises(ValueError, match="regex"):
        parse_list("bad", '{"type": "regex", "list": ["x"]}')
    with pytest.raises(ValueError, match="cidr"):
        parse_list("bad", '{"type": "cidr", "list": ["nowhere"]}')


def test_value_keys_order_ipv4_addresses_and_hash_the_rest() -> None:
    assert value_key("ipv4-addr", "0.0.0.0") == IPV4_BASE
    assert value_key("ipv4-addr", "255.255.255.255") == IPV4_BASE + 2**32 - 1
    assert value_key("domain-name", "a.example") >= IPV4_BASE + 2**32
    assert network_range("10.0.0.0/8") == (
        value_key("ipv4-addr", "10.0.0.0"),
        value_key("ipv4-addr", "10.255.255.255"),
    )
    assert network_range("2001:db8::/32") is None
    assert value_key("ipv4-net", "10.0.0.0/8") in holder_keys("ipv4-addr", "10.1.2.3")
    assert len(holder_keys("ipv6-addr", "2001:db8::1")) == 128
    body = b'{"type": "file", "name": "a", "hashes": {"MD5": "AA", "md5": "aa"}}'
    assert body_keys("file", body) == sorted(
        {value_key("file-name", "a"), value_key("hash:MD5", "aa")}
    )
    assert body_keys("relationship", body) == [] and body_keys("file", b"{not json") == []


_WS = st.sampled_from(["", " ", "  ", "\t", "\n", "\r\n"])
_TYPES = st.sampled_from(
    ["domain-name", "ipv4-addr", "ipv6-addr", "url", "email-addr", "file", "mutex", "process",
     "x-custom", "a", "a1-b2", "artifact", "user-account", "windows-registry-key", "software"]
)
_PROPS = st.sampled_from(["value", "name", "pid", "key", "user_id", "cpe", "x_custom", "size"])
_TEXTS = st.one_of(
    st.sampled_from(["c2.example", "C2.Example.", "10.0.0.1", "10.0.0.9/8", "2001:DB8::1",
                     "hxxp://evil[.]example/x", "A@Mail.B", "", " x ", "a/b", "bücher.example"]),
    st.text(alphabet=st.characters(blacklist_characters="'\\", blacklist_categories=("Cs",)),
            max_size=12),
)


@given(_TYPES, _PROPS, _TEXTS, _WS, _WS, _WS, _WS)
def test_the_simple_pattern_shape_gives_what_the_parser_gives(
    otype: str, prop: str, text: str, w1: str, w2: str, w3: str, w4: str
) -> None:
    from kizuna.cyber.observables import _parsed_found, _simple

    pattern = f"[{w1}{otype}:{prop}{w2}={w3}'{text}'{w4}]"
    fast = _simple(pattern)
    assert fast is not None
    assert fast == _parsed_found(pattern)


# Text each normal form gives back as it is is answered without the general rules
# (normalize._QUAD, _NAME, _URL): the two agree on it, and on text near it.
_NEAR = st.text(alphabet="aAxhHfFpPtT:/.-_~[](){}@%?#01259 \t", max_size=24)


@given(st.one_of(st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,3}){3}", fullmatch=True), _NEAR))
def test_an_address_as_the_general_rules_give_it(text: str) -> None:
    from kizuna.cyber import normalize

    assert address(text) == normalize._address(text)


@given(
    st.one_of(
        st.from_regex(r"(hxxp|fxp|hxxps)?[a-z0-9_-]{1,8}(\.[a-z0-9_-]{1,8}){0,3}\.?",
                      fullmatch=True),
        _NEAR,
    )
)
def test_a_domain_as_the_general_rules_give_it(text: str) -> None:
    from kizuna.cyber import normalize

    assert domain(text) == normalize._domain(text)


@given(
    st.one_of(
        st.from_regex(
            r"(https?|ftp|HTTP|hxxp)://[a-z0-9.-]{1,12}(/[A-Za-z0-9._~/%?#()\[\]-]{0,12})?",
            fullmatch=True,
        ),
        _NEAR,
    )
)
def test_a_url_as_the_general_rules_give_it(text: str) -> None:
    from kizuna.cyber import normalize

    assert url(text) == normalize._url(text)


@given(st.integers(0, 2**32 - 1))
def test_ipv4_keys_as_ipaddress_reads_them(number: int) -> None:
    import ipaddress

    text = str(ipaddress.IPv4Address(number))
    assert value_key("ipv4-addr", text) == IPV4_BASE + number


@given(batches(), st.lists(patterns(), max_size=4))
def test_body_keys_are_the_keys_of_the_observables(
    batch: list[dict[str, object]], exprs: list[ObservationExpr]
) -> None:
    indicators = [
        {"type": "indicator", "pattern_type": "stix", "pattern": pattern_text(e)} for e in exprs
    ]
    for obj in [*batch, *indicators]:
        assert isinstance(obj["type"], str)
        expected = sorted({value_key(o.kind, o.value) for o in observables(obj)})
        assert body_keys(obj["type"], msgspec.json.encode(obj)) == expected
        assert body_keys(obj["type"], b"", obj) == expected
