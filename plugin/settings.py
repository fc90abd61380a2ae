"""User settings of GeoMeld, stored with QgsSettings under geomeld/, and the engine context jobs get from them."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from qgis.core import QgsSettings

from ..model_core.defaults import DEFAULT_TILE
from ..model_core.devices import CPU, offered_devices, providers_for
from ..model_core.feedback import Feedback

if TYPE_CHECKING:  # the engine needs numpy, which may still be missing when the plugin loads
    from ..model_core.engine.context import EngineContext

PREFIX = "geomeld/"
HISTORY_KEY = PREFIX + "query_history"
HISTORY_SIZE = 20


@dataclass
class GeoMeldSettings:
    """Weights folder (empty: bundled), cache and output folders (empty: default), cache cap, tile, threads, device,
    and whether the panel shows Sentinel-2 rasters in true colour."""

    weights_dir: str = ""
    cache_dir: str = ""
    output_dir: str = ""
    cache_cap_mb: int = 2048
    tile_size: int = DEFAULT_TILE
    threads: int = 0
    provider: str = CPU
    true_colour: bool = True  # show a chosen Sentinel-2 raster drawn in its first three bands in true colour

    def weights_path(self) -> str | None:
        """The weights folder to load, or None for the bundled weights."""
        return self.weights_dir or None

    def cache_path(self) -> str:
        """The cache folder in use (the configured one, else GeoMeld's default)."""
        if self.cache_dir:
            return self.cache_dir
        from ..model_core.paths import cache_dir

        return str(cache_dir())

    def output_path(self) -> str:
        """The folder the panel writes its results to (configured, else 'outputs' in the cache folder)."""
        return self.output_dir or os.path.join(self.cache_path(), "outputs")

    def onnx_providers(self) -> list[str]:
        """ONNX Runtime execution providers of the chosen device, then the CPU's (for operators the device lacks)."""
        return providers_for(self.provider)

    def thread_count(self) -> int | None:
        """Threads for ONNX Runtime, or None to let it decide."""
        return self.threads or None


def load_settings() -> GeoMeldSettings:
    """Read the settings (defaults where unset)."""
    stored = QgsSettings()
    defaults = GeoMeldSettings()
    values = {}
    for field in fields(GeoMeldSettings):
        default = getattr(defaults, field.name)
        value = stored.value(PREFIX + field.name, default)
        try:
            values[field.name] = as_bool(value) if isinstance(default, bool) else type(default)(value)
        except (TypeError, ValueError):
            values[field.name] = default
    return GeoMeldSettings(**values)


def as_bool(value: object) -> bool:
    """A stored switch: QgsSettings gives back the text 'true' or 'false' from its ini files."""
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


def save_settings(settings: GeoMeldSettings) -> None:
    """Store the settings."""
    stored = QgsSettings()
    for field in fields(GeoMeldSettings):
        stored.setValue(PREFIX + field.name, getattr(settings, field.name))


def query_history() -> list[str]:
    """The user's recent text queries, newest first."""
    value = QgsSettings().value(HISTORY_KEY, []) or []
    return [value] if isinstance(value, str) else [str(item) for item in value]


def remember_query(text: str) -> list[str]:
    """Put a query at the top of the stored history (without duplicates, at most HISTORY_SIZE)."""
    history = [text] + [item for item in query_history() if item != text]
    QgsSettings().setValue(HISTORY_KEY, history[:HISTORY_SIZE])
    return history[:HISTORY_SIZE]


def engine_context(settings: GeoMeldSettings, feedback: Feedback) -> EngineContext:
    """What an engine job runs with (model_core.engine.context.EngineContext): GeoMeld-FM loaded (once) with the
    configured weights, device and threads, the embedding cache in the configured folder with the configured size
    limit, the configured tile size, and the job's `feedback`."""
    from ..model_core.engine.cache import EmbeddingCache, embeddings_folder
    from ..model_core.engine.context import EngineContext
    from ..model_core.runtime import get_model

    model = get_model(settings.weights_path(), settings.onnx_providers(), settings.thread_count())
    cache = EmbeddingCache(embeddings_folder(settings.cache_path()), max_bytes=settings.cache_cap_mb * 1024 * 1024)
    return EngineContext(model, cache, settings.tile_size, feedback)


def available_providers() -> list[str]:
    """Devices the user can pick: CPU, and every other device this ONNX Runtime offers (CUDA, DirectML, CoreML...)."""
    return offered_devices()
