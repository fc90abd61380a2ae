"""Land-cover themes: the shared vocabulary of facts, captions and claims, and how labels and LULC map onto it."""

from __future__ import annotations

THEMES: tuple[str, ...] = (
    "water",
    "trees",
    "crops",
    "built",
    "bare",
    "snow",
    "cloud",
    "wetland",
    "grassland",
)
# TerraMesh LULC class value -> theme (0 = no data is left out).
LULC_THEMES: dict[int, str] = {
    1: "water",
    2: "trees",
    3: "wetland",
    4: "crops",
    5: "built",
    6: "bare",
    7: "snow",
    8: "cloud",
    9: "grassland",
}
# Class labels (EuroSAT and BigEarthNet 19-class) -> theme.
LABEL_THEMES: dict[str, str] = {
    "AnnualCrop": "crops",
    "Forest": "trees",
    "HerbaceousVegetation": "grassland",
    "Highway": "built",
    "Industrial": "built",
    "Pasture": "grassland",
    "PermanentCrop": "crops",
    "Residential": "built",
    "River": "water",
    "SeaLake": "water",
    "Urban fabric": "built",
    "Industrial or commercial units": "built",
    "Arable land": "crops",
    "Permanent crops": "crops",
    "Pastures": "grassland",
    "Complex cultivation patterns": "crops",
    "Land principally occupied by agriculture, with significant areas of natural vegetation": "crops",
    "Agro-forestry areas": "trees",
    "Broad-leaved forest": "trees",
    "Coniferous forest": "trees",
    "Mixed forest": "trees",
    "Natural grassland and sparsely vegetated areas": "grassland",
    "Moors, heathland and sclerophyllous vegetation": "grassland",
    "Transitional woodland, shrub": "trees",
    "Beaches, dunes, sands": "bare",
    "Inland wetlands": "wetland",
    "Coastal wetlands": "wetland",
    "Inland waters": "water",
    "Marine waters": "water",
}
# Labels that make a sea / coast claim true.
MARINE_LABELS: frozenset[str] = frozenset({"Marine waters", "SeaLake", "Coastal wetlands", "Beaches, dunes, sands"})
RIVER_LABELS: frozenset[str] = frozenset({"River", "Inland waters"})
