"""Training datasets over the real data folder, packing into npz shards, and the packed dataset."""
