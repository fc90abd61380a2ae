#!/usr/bin/env bash
# Installs everything (idempotent) and runs the whole test suite in a real QGIS (offscreen, under Xvfb).
# Extra arguments go to pytest, e.g. scripts/test.sh -k probe
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
echo ">> ruff check"
.venv/bin/ruff check .
echo ">> pytest"
exec xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python -m pytest -p no:cacheprovider "$@"
