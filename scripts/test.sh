#!/usr/bin/env bash
# Installs everything (idempotent) and runs the whole test suite in a real QGIS (offscreen, under Xvfb).
# Extra arguments go to pytest, e.g. scripts/test.sh -k probe
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh dev
export GDAL_PAM_ENABLED=NO QT_QPA_PLATFORM=offscreen
# Debian's pyproj (linked to QGIS's PROJ) looks for its data under the venv prefix; point it at the system copy.
[ -d /usr/share/proj ] && export PROJ_DATA="${PROJ_DATA:-/usr/share/proj}"
export GEOMELD_CACHE_DIR="${GEOMELD_CACHE_DIR:-$PWD/.cache/geomeld}"
echo ">> ruff check"
.venv/bin/ruff check .
echo ">> pytest"
exec xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python -m pytest -p no:cacheprovider "$@"
