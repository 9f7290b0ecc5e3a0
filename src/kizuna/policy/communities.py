"""Communities a releasability marking can name, with the defaults a new node ships.

An operator can change them (``kizuna community set``); they are node configuration stored in
the database, so every process of a node sees the same membership.
"""

from __future__ import annotations

__all__ = ["DEFAULT_COMMUNITIES", "EU", "FVEY", "IP4", "NATO"]

NATO = [
    "ALB",
    "BEL",
    "BGR",
    "CAN",
    "HRV",
    "CZE",
    "DNK",
    "EST",
    "FIN",
    "FRA",
    "DEU",
    "GRC",
    "HUN",
    "ISL",
    "ITA",
    "LVA",
    "LTU",
    "LUX",
    "MNE",
    "NLD",
    "MKD",
    "NOR",
    "POL",
    "PRT",
    "ROU",
    "SVK",
    "SVN",
    "ESP",
    "SWE",
    "TUR",
    "GBR",
    "USA",
]
EU = [
    "AUT",
    "BEL",
    "BGR",
    "HRV",
    "CYP",
    "CZE",
    "DNK",
    "EST",
    "FIN",
    "FRA",
    "DEU",
    "GRC",
    "HUN",
    "IRL",
    "ITA",
    "LVA",
    "LTU",
    "LUX",
    "MLT",
    "NLD",
    "POL",
    "PRT",
    "ROU",
    "SVK",
    "SVN",
    "ESP",
    "SWE",
]
#: NATO's Indo-Pacific partners.
IP4 = ["AUS", "JPN", "KOR", "NZL"]
FVEY = ["AUS", "CAN", "GBR", "NZL", "USA"]

DEFAULT_COMMUNITIES: dict[str, tuple[str, ...]] = {
    "NATO": tuple(sorted(NATO)),
    "EU": tuple(sorted(EU)),
    "IP4": tuple(sorted(IP4)),
    "FVEY": tuple(sorted(FVEY)),
}
