"""German translation: every tr() string of the plugin is translated, the .qm matches the .ts, and the plugin's
translator switches the interface to German."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET

from qgis.PyQt.QtCore import QTranslator

from tests.conftest import REPO_ROOT

TS_FILE = REPO_ROOT / "i18n" / "geomeld_de.ts"
QM_FILE = REPO_ROOT / "i18n" / "geomeld_de.qm"


def tr_literals() -> set[str]:
    """Every string literal passed to tr(...) or self.tr(...) in plugin/."""
    found = set()
    for path in (REPO_ROOT / "plugin").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name == "tr" and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                found.add(node.args[0].value)
    return found


def ts_messages() -> dict[str, ET.Element]:
    """Source text -> translation element of the German .ts file (context GeoMeld)."""
    root = ET.parse(TS_FILE).getroot()
    contexts = root.findall("context")
    assert [c.findtext("name") for c in contexts] == ["GeoMeld"]
    return {m.findtext("source"): m.find("translation") for m in contexts[0].findall("message")}


def test_every_string_is_translated():
    messages = ts_messages()
    literals = tr_literals()
    assert len(literals) > 150
    assert literals <= set(messages), sorted(literals - set(messages))
    for source, translation in messages.items():
        assert translation.get("type") is None, source
        assert translation.text and translation.text.strip(), source


def test_compiled_translations_match_the_ts_file():
    translator = QTranslator()
    assert translator.load(str(QM_FILE))
    for source, translation in ts_messages().items():
        assert translator.translate("GeoMeld", source) == translation.text, source


def test_plugin_translator_switches_to_german(loaded_plugin):
    from geomeld.plugin.i18n import install_translator, remove_translator, tr
    from qgis.core import QgsApplication

    translator = install_translator("de")
    try:
        assert tr("Cancel") == "Abbrechen"
        assert tr("Cancelled by the user; no output was written.").startswith("Vom Benutzer abgebrochen")
        algorithm = QgsApplication.processingRegistry().createAlgorithmById("geomeld:text_query")
        assert algorithm.displayName() == "Heatmap zu einer Textabfrage"
    finally:
        remove_translator(translator)
    assert tr("Cancel") == "Cancel"


def test_unknown_language_installs_nothing(loaded_plugin):
    from geomeld.plugin.i18n import install_translator

    assert install_translator("xx") is None
