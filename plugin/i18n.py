"""Translation of user-visible strings: tr() and the QTranslator for the QGIS locale."""

from __future__ import annotations

import os

from qgis.core import QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

CONTEXT = "GeoMeld"
I18N_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "i18n")


def tr(text: str) -> str:
    """Translate a user-visible string in the GeoMeld context."""
    return QCoreApplication.translate(CONTEXT, text)


def user_language() -> str:
    """Two-letter language of the QGIS user interface (QGIS setting, else the system locale)."""
    value = QgsSettings().value("locale/userLocale", "") or QLocale.system().name()
    return str(value)[:2].lower()


def install_translator(language: str | None = None) -> QTranslator | None:
    """Load i18n/geomeld_<language>.qm into the application; returns the translator (keep it) or None."""
    language = language or user_language()
    path = os.path.join(I18N_DIR, f"geomeld_{language}.qm")
    if not os.path.exists(path):
        return None
    translator = QTranslator()
    if not translator.load(path):
        return None
    QCoreApplication.installTranslator(translator)
    return translator


def remove_translator(translator: QTranslator | None) -> None:
    """Remove a translator installed by install_translator."""
    if translator is not None:
        QCoreApplication.removeTranslator(translator)
