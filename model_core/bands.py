"""Sentinel band names, the model's input order and the known file layouts (single source of truth)."""

from __future__ import annotations

S2_BANDS: tuple[str, ...] = (
    "B01",
    "B02",
    "B03",
    "B04",
    "B05",
    "B06",
    "B07",
    "B08",
    "B8A",
    "B09",
    "B10",
    "B11",
    "B12",
)
S1_BANDS: tuple[str, ...] = ("VV", "VH")
# Channel order of the model input: 13 Sentinel-2 bands, then Sentinel-1 VV, VH.
MODEL_BANDS: tuple[str, ...] = S2_BANDS + S1_BANDS
# Without these four 10 m bands an embedding is not meaningful.
REQUIRED_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B08")

# Known band layouts by band count, most common first. Ambiguous counts need --bands.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "S2 L1C (13 bands, B8A after B08)": S2_BANDS,
    "S2 L2A (12 bands, no B10)": tuple(b for b in S2_BANDS if b != "B10"),
}
# EuroSAT-MS stores B8A last; used when the file name or an explicit layout says so.
EUROSAT_BANDS: tuple[str, ...] = (*(band for band in S2_BANDS if band != "B8A"), "B8A")


# Aliases seen in band descriptions of real files ("B1", "B8a", "b02", "VV"...).
def normalise_band_name(name: str) -> str | None:
    """Return the canonical band name for a description such as 'B2', 'b8a' or 'vv', or None."""
    text = name.strip().upper().replace(" ", "")
    if text in S1_BANDS:
        return text
    if text.startswith("B") and len(text) >= 2:
        digits = text[1:]
        if digits == "8A":
            return "B8A"
        if digits.isdigit() and 1 <= int(digits) <= 12:
            return f"B{int(digits):02d}"
    return None
