"""Read-ahead for tiled loops: the next item is read in a background thread while the caller works on this one."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Data = TypeVar("Data")


def prefetched(read: Callable[[Item], Data], items: Sequence[Item]) -> Iterator[tuple[Item, Data]]:
    """Yield (item, read(item)) in order, reading item k + 1 in a background thread while item k is worked on.

    GDAL reads, decompression and numpy release the GIL, so the read overlaps the caller's work. When the caller
    stops early (error or cancel), the read in flight finishes before the generator closes.
    """
    if not items:
        return
    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(read, items[0])
        for index, item in enumerate(items):
            data = pending.result()
            if index + 1 < len(items):
                pending = reader.submit(read, items[index + 1])
            yield item, data
