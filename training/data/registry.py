"""Every training reader, in a fixed order. Never the Aberystwyth scene (GPL: tests/evaluation only) nor held-out data.

The Presto pixel time series (`presto_pixel_timeseries/`) are single pixels, not patches: they are skipped for
image pretraining and left to pixel/time-series probing.
"""

from __future__ import annotations

from .base import GeoDataset
from .bigearthnet import BigEarthNetV2S2
from .bigearthnet_s1s2 import BigEarthNetS1S2ConfigILM, BigEarthNetS1S2Examples
from .eurosat import EuroSATMS
from .scenes import Brandenburg, DemoScene
from .sen1floods11 import Sen1Floods11
from .slovenia import SloveniaEOPatch
from .terramesh import TerraMesh

READERS: tuple[type[GeoDataset], ...] = (
    EuroSATMS,
    BigEarthNetV2S2,
    BigEarthNetS1S2Examples,
    BigEarthNetS1S2ConfigILM,
    TerraMesh,
    Sen1Floods11,
    SloveniaEOPatch,
    Brandenburg,
    DemoScene,
)
