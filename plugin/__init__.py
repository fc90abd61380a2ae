"""QGIS front end of GeoMeld: provider, dock, map tools and tasks. Computes nothing itself; calls model_core."""
