"""The tables of STIX 2.1 that the validator reads: kinds of objects, required properties,
timestamp properties and their orderings, and which object types a reference may point at.

Everything here is data, so that a reader can hold it against the specification (STIX 2.1,
OASIS Standard, 10 June 2021) section by section.
"""

from __future__ import annotations

import re

#: STIX Domain Objects (section 4).
SDO_TYPES = frozenset(
    {
        "attack-pattern",
        "campaign",
        "course-of-action",
        "grouping",
        "identity",
        "incident",
        "indicator",
        "infrastructure",
        "intrusion-set",
        "location",
        "malware",
        "malware-analysis",
        "note",
        "observed-data",
        "opinion",
        "report",
        "threat-actor",
        "tool",
        "vulnerability",
    }
)
#: STIX Relationship Objects (section 5).
SRO_TYPES = frozenset({"relationship", "sighting"})
#: STIX Cyber-observable Objects (section 6).
SCO_TYPES = frozenset(
    {
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    }
)
#: Meta objects (section 7) that carry created (and most also modified).
META_TYPES = frozenset({"marking-definition", "language-content", "extension-definition"})

#: Types that may never be the source or target of a relationship or the subject of a sighting.
NOT_RELATABLE = frozenset(
    {
        "relationship",
        "sighting",
        "bundle",
        "marking-definition",
        "language-content",
    }
)

# The patterns that must match a whole value end with \Z: "$" also matches before a trailing
# newline, so "name\n" would pass for a property name. Digits are ASCII digits: in a str pattern
# \d also matches the other scripts' digits ("٣"), so those with \d are compiled re.ASCII.

#: The UUID of a STIX identifier: RFC 4122, so version 1-5 and the 10xx variant.
UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)
#: The type part of an identifier, as STRICT_IDENTIFIER reads it.
IDENTIFIER_TYPE = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
#: A STIX identifier, 'type--uuid' (``_properties.identifier_type`` checks the same, faster).
STRICT_IDENTIFIER = re.compile(rf"^(?P<type>{IDENTIFIER_TYPE.pattern})--{UUID.pattern}\Z")
#: A STIX type name (section 3.1): lowercase ASCII letters, digits, single hyphens, 3..250 chars.
TYPE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*\Z")
#: A property name (section 3.1): a-z, 0-9 and underscore, 3..250 characters (``id`` excepted).
PROPERTY_NAME = re.compile(r"^[a-z0-9_]{3,250}\Z")
#: The key of a predefined or custom extension named by suffix (section 7.3).
EXTENSION_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*-ext\Z")
#: A granular marking selector (section 7.2.3.1).
SELECTOR = re.compile(r"^(?:[a-z0-9_-]{3,249}(?:\.(?:\[[0-9]+\]|[a-z0-9_-]{1,250}))*|id)\Z")
#: An RFC 5646 language tag, by its syntax (language, script, region, variants, extensions).
LANGUAGE_TAG = re.compile(
    r"^(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?(?:-(?:[A-Za-z]{2}|\d{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*(?:-[xX](?:-[A-Za-z0-9]{1,8})+)?\Z"
    r"|^[xX](?:-[A-Za-z0-9]{1,8})+\Z",
    re.ASCII,
)
#: A URL: a scheme, then no whitespace or control characters anywhere.
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]+\Z")
CVE_ID = re.compile(r"^CVE-\d{4}-(?:0\d{3}|[1-9]\d{3,})\Z", re.ASCII)
CAPEC_ID = re.compile(r"^CAPEC-\d+\Z", re.ASCII)
HEX = re.compile(r"^(?:[0-9a-fA-F]{2})*\Z")
BASE64 = re.compile(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z")
#: created and modified must be precise to the millisecond (section 3.2).
MILLIS = re.compile(r"\.\d{3,}Z\Z", re.ASCII)

#: Timestamp-valued properties by object type, besides created and modified.
TIMESTAMPS: dict[str, tuple[str, ...]] = {
    "campaign": ("first_seen", "last_seen"),
    "indicator": ("valid_from", "valid_until"),
    "infrastructure": ("first_seen", "last_seen"),
    "intrusion-set": ("first_seen", "last_seen"),
    "language-content": ("object_modified",),
    "malware": ("first_seen", "last_seen"),
    "malware-analysis": ("submitted", "analysis_started", "analysis_ended"),
    "observed-data": ("first_observed", "last_observed"),
    "report": ("published",),
    "relationship": ("start_time", "stop_time"),
    "sighting": ("first_seen", "last_seen"),
    "threat-actor": ("first_seen", "last_seen"),
    "directory": ("ctime", "mtime", "atime"),
    "email-message": ("date",),
    "file": ("ctime", "mtime", "atime"),
    "network-traffic": ("start", "end"),
    "process": ("created_time",),
    "user-account": (
        "account_created",
        "account_expires",
        "credential_last_changed",
        "account_first_login",
        "account_last_login",
    ),
    "windows-registry-key": ("modified_time",),
    "x509-certificate": ("validity_not_before", "validity_not_after"),
}

#: (later, earlier, strictly later?) pairs by type; ``modified >= created`` holds for all.
ORDERINGS: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "campaign": (("last_seen", "first_seen", False),),
    "indicator": (("valid_until", "valid_from", True),),
    "infrastructure": (("last_seen", "first_seen", False),),
    "intrusion-set": (("last_seen", "first_seen", False),),
    "malware": (("last_seen", "first_seen", False),),
    "malware-analysis": (("analysis_ended", "analysis_started", False),),
    "observed-data": (("last_observed", "first_observed", False),),
    "relationship": (("stop_time", "start_time", True),),
    "sighting": (("last_seen", "first_seen", False),),
    "threat-actor": (("last_seen", "first_seen", False),),
    "network-traffic": (("end", "start", False),),
    "x509-certificate": (("validity_not_after", "validity_not_before", False),),
}

#: Properties a type requires beyond the common ones (each a string unless noted in validate).
REQUIRED: dict[str, tuple[str, ...]] = {
    "attack-pattern": ("name",),
    "campaign": ("name",),
    "course-of-action": ("name",),
    "grouping": ("context", "object_refs"),
    "identity": ("name",),
    "incident": ("name",),
    "indicator": ("pattern", "pattern_type", "valid_from"),
    "infrastructure": ("name",),
    "intrusion-set": ("name",),
    "malware": ("is_family",),
    "malware-analysis": ("product",),
    "note": ("content", "object_refs"),
    "observed-data": ("first_observed", "last_observed", "number_observed"),
    "opinion": ("opinion", "object_refs"),
    "report": ("name", "published", "object_refs"),
    "threat-actor": ("name",),
    "tool": ("name",),
    "vulnerability": ("name",),
    "relationship": ("relationship_type", "source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
    "extension-definition": ("name", "schema", "version", "extension_types"),
    "language-content": ("object_ref", "contents"),
    "autonomous-system": ("number",),
    "domain-name": ("value",),
    "email-addr": ("value",),
    "email-message": ("is_multipart",),
    "ipv4-addr": ("value",),
    "ipv6-addr": ("value",),
    "mac-addr": ("value",),
    "mutex": ("name",),
    "network-traffic": ("protocols",),
    "software": ("name",),
    "url": ("value",),
}

#: Properties whose value must be a (non-empty) string, where STIX types them so.
STRINGS = frozenset(
    {
        "name",
        "description",
        "context",
        "pattern",
        "pattern_type",
        "pattern_version",
        "content",
        "relationship_type",
        "product",
        "version",
        "schema",
        "abstract",
        "opinion",
        "value",
        "explanation",
        "summary",
        "identity_class",
        "contact_information",
        "country",
        "region",
    }
)

#: Allowed target types of a reference property, by (object type, property); "*" for any type.
REF_TYPES: dict[tuple[str, str], frozenset[str]] = {
    ("*", "created_by_ref"): frozenset({"identity"}),
    ("*", "object_marking_refs"): frozenset({"marking-definition"}),
    ("sighting", "observed_data_refs"): frozenset({"observed-data"}),
    ("sighting", "where_sighted_refs"): frozenset({"identity", "location"}),
    ("malware", "sample_refs"): frozenset({"file", "artifact"}),
    ("malware", "operating_system_refs"): frozenset({"software"}),
    ("malware-analysis", "host_vm_ref"): frozenset({"software"}),
    ("malware-analysis", "operating_system_ref"): frozenset({"software"}),
    ("malware-analysis", "installed_software_refs"): frozenset({"software"}),
    ("malware-analysis", "sample_ref"): frozenset({"file", "artifact", "network-traffic"}),
    ("malware-analysis", "analysis_sco_refs"): SCO_TYPES,
    ("email-addr", "belongs_to_ref"): frozenset({"user-account"}),
    ("email-message", "from_ref"): frozenset({"email-addr"}),
    ("email-message", "sender_ref"): frozenset({"email-addr"}),
    ("email-message", "to_refs"): frozenset({"email-addr"}),
    ("email-message", "cc_refs"): frozenset({"email-addr"}),
    ("email-message", "bcc_refs"): frozenset({"email-addr"}),
    ("email-message", "raw_email_ref"): frozenset({"artifact"}),
    ("file", "parent_directory_ref"): frozenset({"directory"}),
    ("file", "content_ref"): frozenset({"artifact"}),
    ("directory", "contains_refs"): frozenset({"file", "directory"}),
    ("domain-name", "resolves_to_refs"): frozenset({"ipv4-addr", "ipv6-addr", "domain-name"}),
    ("ipv4-addr", "resolves_to_refs"): frozenset({"mac-addr"}),
    ("ipv4-addr", "belongs_to_refs"): frozenset({"autonomous-system"}),
    ("ipv6-addr", "resolves_to_refs"): frozenset({"mac-addr"}),
    ("ipv6-addr", "belongs_to_refs"): frozenset({"autonomous-system"}),
    ("network-traffic", "src_ref"): frozenset(
        {"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"}
    ),
    ("network-traffic", "dst_ref"): frozenset(
        {"ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"}
    ),
    ("network-traffic", "src_payload_ref"): frozenset({"artifact"}),
    ("network-traffic", "dst_payload_ref"): frozenset({"artifact"}),
    ("network-traffic", "encapsulates_refs"): frozenset({"network-traffic"}),
    ("network-traffic", "encapsulated_by_ref"): frozenset({"network-traffic"}),
    ("process", "opened_connection_refs"): frozenset({"network-traffic"}),
    ("process", "creator_user_ref"): frozenset({"user-account"}),
    ("process", "image_ref"): frozenset({"file"}),
    ("process", "parent_ref"): frozenset({"process"}),
    ("process", "child_refs"): frozenset({"process"}),
    ("windows-registry-key", "creator_user_ref"): frozenset({"user-account"}),
}

#: Types a reference may NOT point at, by (object type, property).
REF_NOT_TYPES: dict[tuple[str, str], frozenset[str]] = {
    ("relationship", "source_ref"): NOT_RELATABLE,
    ("relationship", "target_ref"): NOT_RELATABLE,
    ("sighting", "sighting_of_ref"): NOT_RELATABLE,
    ("language-content", "object_ref"): frozenset({"bundle", "language-content"}),
    ("observed-data", "object_refs"): SDO_TYPES,
}

OPINIONS = ("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree")
EXTENSION_TYPES = frozenset(
    {
        "new-sdo",
        "new-sco",
        "new-sro",
        "property-extension",
        "toplevel-property-extension",
    }
)
TLP_LEVELS = frozenset({"white", "green", "amber", "red"})
