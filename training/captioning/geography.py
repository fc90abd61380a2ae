"""Coarse place and season descriptions from latitude/longitude and an ISO date (no network, no gazetteer)."""

from __future__ import annotations

from typing import Optional

# (name, lon_min, lon_max, lat_min, lat_max); the first box containing the point wins, so small boxes come first.
# Names avoid land-cover words (bay, coast, mountains...) so that a place name never reads as a claim.
REGIONS: tuple[tuple[str, float, float, float, float], ...] = (
    ("the British Isles", -11.0, 2.0, 49.8, 61.0),
    ("the Iberian Peninsula", -10.0, 3.5, 35.8, 44.0),
    ("Scandinavia", 4.0, 32.0, 55.0, 72.0),
    ("the Alps", 5.5, 16.5, 45.5, 48.0),
    ("central Europe", 2.0, 24.0, 46.0, 55.0),
    ("southern Europe", -10.0, 30.0, 34.0, 46.0),
    ("eastern Europe", 22.0, 45.0, 44.0, 62.0),
    ("subarctic Canada", -96.0, -76.0, 50.0, 65.0),
    ("eastern North America", -95.0, -52.0, 24.0, 50.0),
    ("North America", -170.0, -52.0, 15.0, 84.0),
    ("South America", -82.0, -34.0, -56.0, 13.0),
    ("East Africa", 28.0, 52.0, -12.0, 5.0),
    ("Africa", -18.0, 52.0, -35.0, 37.0),
    ("Asia", 45.0, 180.0, -11.0, 80.0),
    ("Australia", 112.0, 155.0, -45.0, -10.0),
)
SEASONS_NORTH: dict[int, str] = {
    12: "winter",
    1: "winter",
    2: "winter",
    3: "spring",
    4: "spring",
    5: "spring",
    6: "summer",
    7: "summer",
    8: "summer",
    9: "autumn",
    10: "autumn",
    11: "autumn",
}
SOUTH_SHIFT: dict[str, str] = {"winter": "summer", "summer": "winter", "spring": "autumn", "autumn": "spring"}
TROPIC = 23.44


def region_name(lat: Optional[float], lon: Optional[float]) -> Optional[str]:
    """Name of a broad region ('central Europe', 'South America'...) containing the point, or None."""
    if lat is None or lon is None:
        return None
    for name, lon_min, lon_max, lat_min, lat_max in REGIONS:
        if lon_min <= lon <= lon_max and lat_min <= lat <= lat_max:
            return name
    return None


def latitude_band(lat: Optional[float]) -> Optional[str]:
    """'tropical', 'subtropical', 'temperate', 'boreal' or 'polar' from the absolute latitude."""
    if lat is None:
        return None
    absolute = abs(lat)
    for limit, name in ((TROPIC, "tropical"), (35.0, "subtropical"), (55.0, "temperate"), (66.56, "boreal")):
        if absolute < limit:
            return name
    return "polar"


def season(date: Optional[str], lat: Optional[float]) -> Optional[str]:
    """Astronomical-style season of an ISO date at a latitude; None in the tropics or when unknown."""
    if not date or lat is None or abs(lat) < TROPIC:
        return None
    name = SEASONS_NORTH[int(date[5:7])]
    return SOUTH_SHIFT[name] if lat < 0 else name
