"""Pretrained teacher encoders (Galileo-Nano, Presto) that GeoMeld-FM distils from; training only."""
