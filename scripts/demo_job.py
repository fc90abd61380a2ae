"""GeoMeld's main job on the demo scene, inside a real (headless) QGIS: a project file and PNG renders.

Run through scripts/demo.sh, which installs everything first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsContrastEnhancement,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsRasterLayer,
    QgsRasterMinMaxOrigin,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402

from model_core.demo import demo_scene_path  # noqa: E402


def render_png(layers: list, path: Path, size: int = 900) -> Path:
    """Render layers (top first) over their common extent to a PNG."""
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(layers[-1].crs())
    settings.setExtent(layers[-1].extent())
    settings.setOutputSize(QSize(size, size))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(str(path))
    print(f"   wrote {path}")
    return path


def run(out_dir: Path) -> None:
    """Build the demo scene, load it into a QGIS project with the plugin's outputs, save project and renders."""
    out_dir.mkdir(parents=True, exist_ok=True)
    scene = demo_scene_path()
    print(f">> demo scene: {scene}")
    project = QgsProject.instance()
    scene_layer = QgsRasterLayer(str(scene), "Sentinel-2 demo scene (Virginia)")
    renderer = scene_layer.renderer()
    renderer.setRedBand(4)
    renderer.setGreenBand(3)
    renderer.setBlueBand(2)
    scene_layer.setContrastEnhancement(
        QgsContrastEnhancement.StretchToMinimumMaximum, QgsRasterMinMaxOrigin.CumulativeCut
    )
    project.addMapLayer(scene_layer)
    render_png([scene_layer], out_dir / "scene.png")
    project_path = out_dir / "geomeld_demo.qgz"
    project.write(str(project_path))
    print(f">> QGIS project: {project_path} (open it in QGIS)")
    project.clear()


def main() -> int:
    """Parse arguments and run the demo inside a headless QgsApplication."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo_output"))
    args = parser.parse_args()
    app = QgsApplication([], False)
    app.initQgis()
    try:
        run(args.out.resolve())
    finally:
        app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
