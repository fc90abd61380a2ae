#!/usr/bin/env bash
# Installs everything (idempotent) and runs the whole test suite in a real QGIS (offscreen, under Xvfb).
# Extra arguments go to pytest, e.g. scripts/test.sh -k probe
#   scripts/test.sh --fast   the engine and CLI tests (tests/model_core) without QGIS, leaving out those marked slow
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
echo ">> ruff check"
.venv/bin/ruff check .
if [ "${1:-}" = "--fast" ]; then
    shift
    echo ">> pytest (fast: tests/model_core, not slow, no QGIS)"
    exec .venv/bin/python -m pytest -p no:cacheprovider -p no:pytest_qgis -m "not slow" tests/model_core "$@"
fi
echo ">> pytest"
exec xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python -m pytest -p no:cacheprovider "$@"
