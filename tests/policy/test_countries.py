"""policy/countries.py holds exactly the officially assigned ISO 3166-1 alpha-3 codes, checked
against an independent list: pycountry's (the Debian iso-codes data)."""

from __future__ import annotations

import pycountry

from kizuna.policy.countries import ISO3, is_country


def test_the_codes_are_iso_3166_1_as_pycountry_lists_them() -> None:
    theirs = {c.alpha_3 for c in pycountry.countries}
    assert sorted(ISO3 - theirs) == [], "codes that are not ISO 3166-1 alpha-3"
    assert sorted(theirs - ISO3) == [], "ISO 3166-1 alpha-3 codes missing here"


def test_only_upper_case_codes_are_countries() -> None:
    assert is_country("FRA") and not is_country("fra") and not is_country("FR")
    assert not is_country("EU") and not is_country("XKX")  # a union; Kosovo's user code
