"""The one rule for the names of organizations, users, peers and communities, whichever path
creates them (the CLI, the administrators' pages, ``kizuna init``, the demo).

A name is what an operator types and reads back: in a table of the UI, a grant, an HTTP
Basic credential, a log line. So it is 1 to :data:`MAX_NAME` characters, printable ones only
(no control character such as NUL, a line break or a tab, no invisible format character such
as a zero-width space or a right-to-left override, no space other than U+0020), neither
beginning nor ending with a space, and in Unicode normal form NFC (two names that look the
same are the same string). A user name also holds no colon: HTTP Basic authentication ends
the name at the first one. A community's name is what ``REL TO`` markings name it by: stored
upper-case, it is a releasability code (a letter, then 1 to 49 letters, digits, ``_``, ``+``
or ``-``) and no country's code.

>>> name_problem("user", "aiko") is None
True
>>> name_problem("user", " aiko")
"' aiko' begins with a space: a user name cannot begin or end with white space (did you mean 'aiko'?)"
>>> name_problem("community", "Five Eyes")
"'Five Eyes' cannot name a community: REL TO markings name it by its code, a letter then 1 to 49 letters, digits, '_', '+' or '-' (such as NATO, FVEY, EU-27), stored upper-case"
>>> name_problem("organization", "CERT\\x00JP")
"'CERT\\\\x00JP' holds U+0000 (a control character) at position 5: an organization name holds printable characters only"
"""

from __future__ import annotations

import unicodedata

from kizuna.errors import BadRequest
from kizuna.policy.countries import is_country
from kizuna.stix.markings import is_releasability_code

#: The longest name, in characters (the width of the store's name columns).
MAX_NAME = 200
#: What each kind of name may not hold, beside the rule for all: the character and why.
_FORBIDDEN = {
    "user": {":": "HTTP Basic authentication separates the user name from the token with it"},
    "organization": {},
    "peer": {},
    "community": {},
}
_ARTICLE = {"user": "a", "organization": "an", "peer": "a", "community": "a"}
_SHOWN = 60


def _shown(name: str) -> str:
    """*name* quoted, its unprintable characters escaped, shortened when long."""
    return repr(name if len(name) <= _SHOWN else name[:_SHOWN] + "…")


def _described(char: str) -> str:
    code = f"U+{ord(char):04X}"
    category = unicodedata.category(char)
    if category == "Cc":
        return f"{code} (a control character)"
    label = unicodedata.name(char, "")
    kind = (
        "an invisible format character" if category == "Cf"
        else "a space other than U+0020" if category == "Zs"
        else "a combining character" if unicodedata.combining(char)
        else "a compatibility character" if char.isprintable()
        else "not a printable character"
    )
    return f"{code} {label} ({kind})" if label else f"{code} ({kind})"


def name_problem(kind: str, name: str) -> str | None:
    """What is wrong with *name* as the name of a *kind* (``user``, ``organization``,
    ``peer`` or ``community``), in a sentence an operator can act on; None when it may be
    used."""
    an = _ARTICLE[kind]
    if not name:
        return f"{an} {kind} needs a name (1 to {MAX_NAME} characters)"
    if not name.strip():
        return f"{_shown(name)} is only white space: {an} {kind} needs a name you can read"
    if len(name) > MAX_NAME:
        return f"{an} {kind} name has at most {MAX_NAME} characters; this one has {len(name)}"
    for position, char in enumerate(name, 1):
        if not char.isprintable() and char != " ":
            return (
                f"{_shown(name)} holds {_described(char)} at position {position}: "
                f"{an} {kind} name holds printable characters only"
            )
    for end, char in (("begins", name[0]), ("ends", name[-1])):
        if char.isspace():
            return (
                f"{_shown(name)} {end} with a space: {an} {kind} name cannot begin or end with "
                f"white space (did you mean {_shown(name.strip())}?)"
            )
    for char, why in _FORBIDDEN[kind].items():
        if char in name:
            return f"{_shown(name)} holds {char!r}: {an} {kind} name cannot hold it ({why})"
    composed = unicodedata.normalize("NFC", name)
    if composed != name:
        odd = next(
            (c for c in name if unicodedata.combining(c) or unicodedata.normalize("NFC", c) != c),
            None,
        )
        held = f": it holds {_described(odd)}" if odd else ""
        return (
            f"{_shown(name)} is not in Unicode normal form NFC{held}; {an} {kind} name is "
            f"written composed, as {composed!a}"
        )
    if kind == "community":
        return _community_problem(name)
    return None


def _community_problem(name: str) -> str | None:
    code = name.upper()
    if is_country(code):
        return (
            f"{name!r} is a country code: a community needs a name of its own, or REL TO "
            f"{code} would admit organizations of other countries"
        )
    if not name.isascii() or not is_releasability_code(code):  # "ß".upper() is "SS"
        return (
            f"{_shown(name)} cannot name a community: REL TO markings name it by its code, a "
            "letter then 1 to 49 letters, digits, '_', '+' or '-' (such as NATO, FVEY, EU-27), "
            "stored upper-case"
        )
    return None


def check_name(kind: str, name: str) -> None:
    """Raise :class:`~kizuna.errors.BadRequest` (400) saying what is wrong with *name* as the
    name of a *kind*, if anything is (see :func:`name_problem`)."""
    problem = name_problem(kind, name)
    if problem is not None:
        raise BadRequest(problem)
