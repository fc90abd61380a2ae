#!/usr/bin/env bash
# Refreshes i18n/geomeld_<lang>.ts from the plugin's tr("...") strings (pylupdate5) and compiles them to .qm (lrelease).
# Usage: scripts/update_translations.sh [languages...]   (default: de)
# tr() translates in the context "GeoMeld"; pylupdate5 files bare tr() calls under "@default", so the context is
# renamed around the pylupdate5 run (existing translations are kept, new strings are marked unfinished).
set -euo pipefail
cd "$(dirname "$0")/.."
languages=("${@:-de}")
lrelease_bin="$(command -v lrelease || echo /usr/lib/qt5/bin/lrelease)"
command -v pylupdate5 >/dev/null || { echo "pylupdate5 is missing: apt-get install pyqt5-dev-tools" >&2; exit 1; }
[ -x "$lrelease_bin" ] || { echo "lrelease is missing: apt-get install qttools5-dev-tools" >&2; exit 1; }
mapfile -t sources < <(find plugin -name "*.py" | sort)
for lang in "${languages[@]}"; do
  ts="i18n/geomeld_${lang}.ts"
  [ -f "$ts" ] && sed -i 's|<name>GeoMeld</name>|<name>@default</name>|' "$ts"
  pylupdate5 -noobsolete "${sources[@]}" -ts "$ts"
  sed -i 's|<name>@default</name>|<name>GeoMeld</name>|' "$ts"
  "$lrelease_bin" -silent "$ts" -qm "i18n/geomeld_${lang}.qm"
  echo ">> $ts: $(grep -c '<source>' "$ts") strings, $(grep -c 'type="unfinished"' "$ts" || true) untranslated"
done
