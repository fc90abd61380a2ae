"""`python -m training.captioning --pack .packed --out .packed/captions.jsonl`: caption every packed sample offline."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from typing import Optional

from .captioner import CaptionBackend, TemplateCaptioner
from .orchestrator import Orchestrator
from .pipeline import caption_pack, summary_text


def load_backend(spec: Optional[str]) -> CaptionBackend:
    """The template captioner, or an instance of 'module:Class' implementing CaptionBackend (e.g. a local LLM)."""
    if not spec:
        return TemplateCaptioner()
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)()


def main(argv: Optional[list[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m training.captioning", description=__doc__.splitlines()[0])
    parser.add_argument("--pack", default=".packed", help="pack folder from python -m training.data.pack")
    parser.add_argument("--out", default=".packed/captions.jsonl", help="output JSONL file")
    parser.add_argument("--candidates", type=int, default=8, help="candidate captions written per sample")
    parser.add_argument("--keep", type=int, default=3, help="accepted captions kept per sample")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default=None, help="module:Class of another CaptionBackend (default: templates)")
    args = parser.parse_args(argv)
    start = time.time()
    orchestrator = Orchestrator(load_backend(args.backend), args.candidates, args.keep, args.seed)
    records = caption_pack(args.pack, args.out, orchestrator)
    print(summary_text(records))
    print(f"{len(records)} records written to {args.out} in {time.time() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
