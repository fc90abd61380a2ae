# Sourced by demo.sh and test.sh from the repository root: installs everything (idempotent) and sets the environment.
bash scripts/setup_env.sh dev
export GDAL_PAM_ENABLED=NO QT_QPA_PLATFORM=offscreen
# Debian's pyproj (linked to QGIS's PROJ) looks for its data under the venv prefix; point it at the system copy.
if [ -d /usr/share/proj ]; then export PROJ_DATA="${PROJ_DATA:-/usr/share/proj}"; fi
export GEOMELD_CACHE_DIR="${GEOMELD_CACHE_DIR:-$PWD/.cache/geomeld}"
