"""`cache --info | --clear`: the embedding cache's folder, size and entries, or empty it."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `cache` command."""
    parser = subparsers.add_parser("cache", help="show or clear the embedding cache")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--info", action="store_true", help="print the cache folder, entries and size")
    action.add_argument("--clear", action="store_true", help="delete every cached embedding that no running job holds")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print cache information or clear it."""
    from ..engine.cache import EmbeddingCache

    cache = EmbeddingCache()
    if args.clear:
        report = cache.clear_report()
        print(f"removed {report.removed} cached embedding(s) from {cache.folder}")
        if report.in_use:
            print(f"kept {report.in_use} embedding(s) that running jobs are computing or using")
        if report.stale_removed:
            print(f"removed {report.stale_removed} temporary file(s) of interrupted jobs")
        return 0
    info = cache.info()
    print(f"folder: {info['folder']}")
    print(f"entries: {info['entries']}")
    print(f"size: {info['bytes'] / 1024**2:.1f} MiB of {info['max_bytes'] / 1024**3:.1f} GiB")
    print(f"in use by running jobs: {info['in_use']}")
    print(
        f"temporary files: {info['temporary_files']} ({info['temporary_bytes'] / 1024**2:.1f} MiB; "
        f"{info['stale_temporary_files']} of interrupted jobs, removed by the next run or --clear)"
    )
    return 0
