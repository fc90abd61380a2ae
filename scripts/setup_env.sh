#!/usr/bin/env bash
# Installs QGIS (Debian packages) and a .venv with the pinned Python dependencies. Idempotent.
# Usage: scripts/setup_env.sh [runtime|dev]   (default: dev)
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-dev}"

apt_packages=(qgis python3-qgis python3-rasterio python3-venv xvfb xauth qttools5-dev-tools pyqt5-dev-tools)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo ">> apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo ">> QGIS and system packages already installed"
fi

if [ ! -x .venv/bin/python ]; then
  echo ">> creating .venv from /usr/bin/python3 (with system site-packages, so PyQGIS is visible)"
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
req=requirements.txt
[ "$profile" = dev ] && req=requirements-dev.txt
stamp=".venv/.installed-$profile-$(cat requirements.txt "$req" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo ">> pip install -r $req"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$req"
  touch "$stamp"
else
  echo ">> Python dependencies already installed ($req)"
fi
# Inside QGIS, pyproj must be the build linked to QGIS's own PROJ (Debian's python3-pyproj): a pip wheel bundles a
# second libproj whose symbols clash with QGIS's, and QGIS then crashes (in worker threads and on exit).
if /usr/bin/python3 -c "import pyproj" 2>/dev/null \
  && .venv/bin/python -c "import pyproj, sys; sys.exit('/.venv/' not in pyproj.__file__)" 2>/dev/null; then
  echo ">> using the system pyproj (linked to QGIS's PROJ) instead of the pip wheel"
  .venv/bin/python -m pip uninstall -y -q pyproj
fi
