"""A temporary upper bound on GDAL's block cache, shared safely by concurrent jobs in one process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from osgeo import gdal


class _CacheLimit:
    """Lowers GDAL's cache maximum while at least one job holds it and restores the old value after the last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._previous = 0

    @contextmanager
    def at_most(self, limit_bytes: int) -> Iterator[None]:
        """Keep GDAL's block cache at most `limit_bytes` (never raise it) for the duration of the block."""
        with self._lock:
            if self._holders == 0:
                self._previous = gdal.GetCacheMax()
            self._holders += 1
            if gdal.GetCacheMax() > limit_bytes:
                gdal.SetCacheMax(limit_bytes)
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                if self._holders == 0:
                    gdal.SetCacheMax(self._previous)


_LIMIT = _CacheLimit()


def gdal_cache_at_most(limit_bytes: int):
    """Context manager: GDAL's block cache is at most `limit_bytes` inside it (process-wide, restored on exit)."""
    return _LIMIT.at_most(limit_bytes)
