"""The tabs of the GeoMeld panel, one module each."""
