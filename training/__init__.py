"""Training of GeoMeld-FM: datasets, captions, pretraining and export (torch; never imported by the plugin)."""
