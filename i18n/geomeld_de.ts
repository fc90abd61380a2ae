<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>GeoMeld</name>
    <message>
        <location filename="../plugin/dock.py" line="43"/>
        <source>Sentinel-2 raster</source>
        <translation>Sentinel-2-Raster</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="56"/>
        <source>Band names in file order (e.g. B02,B03,B04,B08 or eurosat, l1c, l2a; empty: detect)</source>
        <translation>Bandnamen in Dateireihenfolge (z. B. B02,B03,B04,B08 oder eurosat, l1c, l2a; leer: erkennen)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="79"/>
        <source>Choose a raster layer.</source>
        <translation>Wählen Sie einen Rasterlayer.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="29"/>
        <source>Compute embeddings</source>
        <translation>Embeddings berechnen</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/embed.py" line="29"/>
        <source>Computes a GeoMeld-FM embedding for every pixel (or every STRIDE-th pixel) of a Sentinel-2 raster and writes it as a multi-band GeoTIFF. Results are cached, so later probes, clusters and text queries on the same raster are fast. Band names are read from the file; type them in file order when they are missing.</source>
        <translation>Berechnet für jedes Pixel (oder jedes STRIDE-te Pixel) eines Sentinel-2-Rasters ein GeoMeld-FM-Embedding und schreibt es als mehrbandiges GeoTIFF. Die Ergebnisse werden zwischengespeichert, sodass spätere Proben, Cluster und Textabfragen auf demselben Raster schnell sind. Die Bandnamen werden aus der Datei gelesen; fehlen sie, geben Sie sie in Dateireihenfolge ein.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/embed.py" line="38"/>
        <source>Stride (1 = every pixel, 4 = one embedding per 4x4 pixels)</source>
        <translation>Schrittweite (1 = jedes Pixel, 4 = ein Embedding je 4x4 Pixel)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/embed.py" line="47"/>
        <source>Embedding raster</source>
        <translation>Embedding-Raster</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/embed.py" line="65"/>
        <source>Embedding of {0} x {1} px, {2} dimensions{3}.</source>
        <translation>Embedding mit {0} x {1} px, {2} Dimensionen{3}.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/embed.py" line="65"/>
        <source> (from the cache)</source>
        <translation> (aus dem Zwischenspeicher)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/embed.py" line="82"/>
        <source>Embedding colour preview (PCA)</source>
        <translation>Farbvorschau der Embeddings (PCA)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/embed.py" line="86"/>
        <source>Shows what the model sees: the embeddings of the raster (computed or taken from the cache) are reduced to their three main directions (PCA) and written as an RGB image. Areas of similar colour have similar embeddings, so fields, forests, water and towns usually stand out.</source>
        <translation>Zeigt, was das Modell sieht: Die Embeddings des Rasters (berechnet oder aus dem Zwischenspeicher) werden auf ihre drei Hauptrichtungen (PCA) reduziert und als RGB-Bild geschrieben. Flächen ähnlicher Farbe haben ähnliche Embeddings, daher heben sich Felder, Wälder, Wasser und Orte meist ab.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/embed.py" line="95"/>
        <source>PCA colour preview</source>
        <translation>PCA-Farbvorschau</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="63"/>
        <source>Logistic regression</source>
        <translation>Logistische Regression</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="35"/>
        <source>Random forest</source>
        <translation>Random Forest</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="63"/>
        <source>k nearest neighbours</source>
        <translation>k nächste Nachbarn</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="75"/>
        <source>Train probe classifier</source>
        <translation>Probe-Klassifikator trainieren</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="91"/>
        <source>Labelled points or polygons</source>
        <translation>Beschriftete Punkte oder Polygone</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/probe.py" line="44"/>
        <source>Class field</source>
        <translation>Klassenfeld</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/regression.py" line="42"/>
        <source>Probe</source>
        <translation>Probe</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="81"/>
        <source>Probe file</source>
        <translation>Probe-Datei</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="81"/>
        <source>Probe (*.json)</source>
        <translation>Probe (*.json)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="95"/>
        <source>Confusion matrix</source>
        <translation>Konfusionsmatrix</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="95"/>
        <source>PNG image (*.png)</source>
        <translation>PNG-Bild (*.png)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="109"/>
        <source>Cross-validated accuracy</source>
        <translation>Kreuzvalidierte Genauigkeit</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="139"/>
        <source>Report</source>
        <translation>Bericht</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="178"/>
        <source>Apply probe classifier</source>
        <translation>Probe-Klassifikator anwenden</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="182"/>
        <source>Classifies every pixel of a raster with a probe trained by &apos;Train probe classifier&apos; and writes a class raster with the class names and colours. Optionally writes the class probabilities, the uncertainty (where the probe hesitates) and points where a new label would help most. Smoothing and a minimum patch size clean up speckle.</source>
        <translation>Klassifiziert jedes Pixel eines Rasters mit einer von „Probe-Klassifikator trainieren“ erstellten Probe und schreibt ein Klassenraster mit Klassennamen und Farben. Optional schreibt es die Klassenwahrscheinlichkeiten, die Unsicherheit (wo die Probe zögert) und Punkte, an denen eine neue Beschriftung am meisten hilft. Glättung und eine Mindestflächengröße entfernen Pixelrauschen.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="113"/>
        <source>Smoothing window (px, 0 = none)</source>
        <translation>Glättungsfenster (px, 0 = keine)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="196"/>
        <source>Smallest patch (px, 0 = keep all)</source>
        <translation>Kleinste Fläche (px, 0 = alle behalten)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="159"/>
        <source>Class raster</source>
        <translation>Klassenraster</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="58"/>
        <source>Class probabilities</source>
        <translation>Klassenwahrscheinlichkeiten</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="202"/>
        <source>Uncertainty</source>
        <translation>Unsicherheit</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="206"/>
        <source>Where to label next</source>
        <translation>Wo als Nächstes beschriften</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="45"/>
        <source>Threshold (0-1; empty: automatic)</source>
        <translation>Schwellenwert (0-1; leer: automatisch)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="55"/>
        <source>Number of places to list</source>
        <translation>Anzahl aufzulistender Orte</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="58"/>
        <source>Heatmap</source>
        <translation>Heatmap</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="59"/>
        <source>Mask</source>
        <translation>Maske</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="62"/>
        <source>Polygons</source>
        <translation>Polygone</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="65"/>
        <source>Pixels above the threshold</source>
        <translation>Pixel über dem Schwellenwert</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="83"/>
        <source>Threshold {0:.3f}: {1} pixels.</source>
        <translation>Schwellenwert {0:.3f}: {1} Pixel.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="115"/>
        <source>Text query heatmap</source>
        <translation>Heatmap zu einer Textabfrage</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="129"/>
        <source>What to look for (e.g. water, forest, town)</source>
        <translation>Wonach gesucht wird (z. B. water, forest, town)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="159"/>
        <source>Query by example</source>
        <translation>Suche nach Beispiel</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="163"/>
        <source>Finds places that look like the example points: every pixel is scored by the similarity of its embedding to the mean embedding of the examples (0-1 over the raster). The default threshold is chosen automatically (Otsu).</source>
        <translation>Findet Orte, die wie die Beispielpunkte aussehen: Jedes Pixel wird nach der Ähnlichkeit seines Embeddings zum mittleren Embedding der Beispiele bewertet (0-1 über das Raster). Der Standard-Schwellenwert wird automatisch gewählt (Otsu).</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="172"/>
        <source>Example points</source>
        <translation>Beispielpunkte</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="203"/>
        <source>Change detection</source>
        <translation>Veränderungserkennung</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="207"/>
        <source>Compares two Sentinel-2 rasters of the same place (dates A and B) pixel by pixel through their embeddings and writes the change (0 = same, up to 2) on the grid of A; B is resampled when needed. The default threshold is chosen automatically. With a text filter such as &apos;new buildings&apos; only changes whose date-B pixels match the text count.</source>
        <translation>Vergleicht zwei Sentinel-2-Raster desselben Ortes (Zeitpunkte A und B) Pixel für Pixel über ihre Embeddings und schreibt die Veränderung (0 = gleich, bis 2) auf dem Raster von A; B wird bei Bedarf neu abgetastet. Der Standard-Schwellenwert wird automatisch gewählt. Mit einem Textfilter wie „new buildings“ zählen nur Veränderungen, deren Pixel zum Zeitpunkt B zum Text passen.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="216"/>
        <source>Sentinel-2 raster, date A</source>
        <translation>Sentinel-2-Raster, Zeitpunkt A</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="217"/>
        <source>Sentinel-2 raster, date B</source>
        <translation>Sentinel-2-Raster, Zeitpunkt B</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="218"/>
        <source>Band names of date B (empty: detect)</source>
        <translation>Bandnamen von Zeitpunkt B (leer: erkennen)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="222"/>
        <source>Only changes to (text, optional)</source>
        <translation>Nur Veränderungen zu (Text, optional)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="223"/>
        <source>Threshold (0-2; empty: automatic)</source>
        <translation>Schwellenwert (0-2; leer: automatisch)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="39"/>
        <source>Zero-shot segmentation</source>
        <translation>Zero-Shot-Segmentierung</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="43"/>
        <source>Classifies every pixel into one of the classes you name (for example &apos;water, forest, farmland, town&apos;) by comparing its embedding with the text of each class; no training labels are needed. Writes a class raster with the class names and, optionally, one probability band per class.</source>
        <translation>Ordnet jedes Pixel einer der von Ihnen genannten Klassen zu (zum Beispiel „water, forest, farmland, town“), indem sein Embedding mit dem Text jeder Klasse verglichen wird; es werden keine Trainingsbeschriftungen benötigt. Schreibt ein Klassenraster mit den Klassennamen und optional ein Wahrscheinlichkeitsband je Klasse.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="52"/>
        <source>Class names, separated by commas</source>
        <translation>Klassennamen, durch Kommas getrennt</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="79"/>
        <source>Classes: {0}.</source>
        <translation>Klassen: {0}.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="95"/>
        <source>Clusters (unsupervised)</source>
        <translation>Cluster (unüberwacht)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="99"/>
        <source>Groups the pixels into clusters of similar embeddings without any labels (k-means); &apos;cluster 1&apos; is the largest. With 0 clusters the number is chosen automatically (silhouette score). Useful to discover the main land covers before labelling.</source>
        <translation>Gruppiert die Pixel ohne Beschriftungen in Cluster ähnlicher Embeddings (k-Means); „cluster 1“ ist der größte. Bei 0 Clustern wird die Anzahl automatisch gewählt (Silhouettenwert). Nützlich, um vor dem Beschriften die wichtigsten Landbedeckungen zu entdecken.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="108"/>
        <source>Number of clusters (0 = automatic)</source>
        <translation>Anzahl der Cluster (0 = automatisch)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="116"/>
        <source>Cluster raster</source>
        <translation>Cluster-Raster</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="134"/>
        <source>{0} clusters.</source>
        <translation>{0} Cluster.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="147"/>
        <source>Class polygons with areas</source>
        <translation>Klassenpolygone mit Flächen</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="151"/>
        <source>Turns a GeoMeld class raster (from a probe or clusters) into polygons with the class name and the geodesic area in hectares, drops polygons smaller than the minimum area, and writes a CSV with the area of every class beside the GeoPackage.</source>
        <translation>Wandelt ein GeoMeld-Klassenraster (aus einer Probe oder aus Clustern) in Polygone mit dem Klassennamen und der geodätischen Fläche in Hektar um, verwirft Polygone unter der Mindestfläche und schreibt neben das GeoPackage eine CSV-Datei mit der Fläche jeder Klasse.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="160"/>
        <source>Smallest polygon (ha)</source>
        <translation>Kleinstes Polygon (ha)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="165"/>
        <source>Simplify tolerance (map units, 0 = none)</source>
        <translation>Vereinfachungstoleranz (Karteneinheiten, 0 = keine)</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/segment.py" line="83"/>
        <source>Class polygons</source>
        <translation>Klassenpolygone</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/segment.py" line="175"/>
        <source>Areas per class (CSV)</source>
        <translation>Flächen je Klasse (CSV)</translation>
    </message>
    <message>
        <location filename="../plugin/dependencies.py" line="98"/>
        <source>not installed</source>
        <translation>nicht installiert</translation>
    </message>
    <message>
        <location filename="../plugin/dependencies.py" line="105"/>
        <source>version {0} is older than {1}</source>
        <translation>Version {0} ist älter als {1}</translation>
    </message>
    <message>
        <location filename="../plugin/dependencies.py" line="107"/>
        <source>version {0} is not below {1}</source>
        <translation>Version {0} ist nicht kleiner als {1}</translation>
    </message>
    <message>
        <location filename="../plugin/dependencies.py" line="203"/>
        <source>Installing GeoMeld&apos;s Python packages</source>
        <translation>Installiere die Python-Pakete von GeoMeld</translation>
    </message>
    <message>
        <location filename="../plugin/dependencies.py" line="233"/>
        <source>GeoMeld needs Python packages</source>
        <translation>GeoMeld benötigt Python-Pakete</translation>
    </message>
    <message>
        <location filename="../plugin/dependencies.py" line="236"/>
        <source>GeoMeld needs these Python packages, which this QGIS does not have yet:</source>
        <translation>GeoMeld benötigt diese Python-Pakete, die in diesem QGIS noch fehlen:</translation>
    </message>
    <message>
        <location filename="../plugin/dependencies.py" line="245"/>
        <source>To install them yourself, run in a terminal:</source>
        <translation>Um sie selbst zu installieren, führen Sie in einem Terminal aus:</translation>
    </message>
    <message>
        <location filename="../plugin/dependencies.py" line="254"/>
        <source>Install now</source>
        <translation>Jetzt installieren</translation>
    </message>
    <message>
        <location filename="../plugin/dependencies.py" line="278"/>
        <source>The packages are installed; GeoMeld is ready.</source>
        <translation>Die Pakete sind installiert; GeoMeld ist bereit.</translation>
    </message>
    <message>
        <location filename="../plugin/dependencies.py" line="281"/>
        <source>The packages are installed. Restart QGIS to use GeoMeld.</source>
        <translation>Die Pakete sind installiert. Starten Sie QGIS neu, um GeoMeld zu verwenden.</translation>
    </message>
    <message>
        <location filename="../plugin/dependencies.py" line="285"/>
        <source>pip could not install the packages; run the command below yourself.</source>
        <translation>pip konnte die Pakete nicht installieren; führen Sie den folgenden Befehl selbst aus.</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="89"/>
        <source>GeoMeld</source>
        <translation>GeoMeld</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="45"/>
        <source>detected from the file, e.g. B01,B02,...,B12</source>
        <translation>aus der Datei erkannt, z. B. B01,B02,...,B12</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="46"/>
        <source>Band names in file order; edit them when the detection is wrong.</source>
        <translation>Bandnamen in Dateireihenfolge; bearbeiten Sie sie, wenn die Erkennung falsch ist.</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="47"/>
        <source>Bands</source>
        <translation>Bänder</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="74"/>
        <source>Install the missing Python packages...</source>
        <translation>Fehlende Python-Pakete installieren...</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="81"/>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="107"/>
        <source>Embed</source>
        <translation>Einbetten</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="108"/>
        <source>Label &amp;&amp; Probe</source>
        <translation>Beschriften &amp;&amp; Probe</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="110"/>
        <source>Segment</source>
        <translation>Segmentieren</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="74"/>
        <source>Search</source>
        <translation>Suchen</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/change.py" line="56"/>
        <source>Change</source>
        <translation>Veränderung</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="113"/>
        <source>Settings</source>
        <translation>Einstellungen</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="125"/>
        <source>GeoMeld needs Python packages that are missing.</source>
        <translation>GeoMeld benötigt fehlende Python-Pakete.</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="152"/>
        <source>{0} x {1} px, {2} bands mapped.</source>
        <translation>{0} x {1} px, {2} Bänder zugeordnet.</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="181"/>
        <source>Choose a Sentinel-2 raster layer first.</source>
        <translation>Wählen Sie zuerst einen Sentinel-2-Rasterlayer.</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="199"/>
        <source>GeoMeld is still busy with another job; wait or cancel it.</source>
        <translation>GeoMeld ist noch mit einer anderen Aufgabe beschäftigt; warten Sie oder brechen Sie sie ab.</translation>
    </message>
    <message>
        <location filename="../plugin/layers.py" line="30"/>
        <source>GeoMeld labels</source>
        <translation>GeoMeld-Beschriftungen</translation>
    </message>
    <message>
        <location filename="../plugin/layers.py" line="56"/>
        <source>Could not save the layer &apos;{0}&apos; ({1}).</source>
        <translation>Der Layer „{0}“ konnte nicht gespeichert werden ({1}).</translation>
    </message>
    <message>
        <location filename="../plugin/layers.py" line="72"/>
        <source>QGIS cannot open the result &apos;{0}&apos;.</source>
        <translation>QGIS kann das Ergebnis „{0}“ nicht öffnen.</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="42"/>
        <source>GeoMeld panel</source>
        <translation>GeoMeld-Bedienfeld</translation>
    </message>
    <message>
        <location filename="../plugin/main.py" line="56"/>
        <source>GeoMeld needs Python packages that are missing: {0}. Open the GeoMeld panel to install them.</source>
        <translation>GeoMeld benötigt fehlende Python-Pakete: {0}. Öffnen Sie das GeoMeld-Bedienfeld, um sie zu installieren.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/change.py" line="21"/>
        <source>The raster chosen at the top is date A; choose the same place at date B.</source>
        <translation>Das oben gewählte Raster ist Zeitpunkt A; wählen Sie denselben Ort zum Zeitpunkt B.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/change.py" line="26"/>
        <source>Date B</source>
        <translation>Zeitpunkt B</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/change.py" line="28"/>
        <source>detected from the file</source>
        <translation>aus der Datei erkannt</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/change.py" line="29"/>
        <source>Bands of date B</source>
        <translation>Bänder von Zeitpunkt B</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/change.py" line="31"/>
        <source>optional, e.g. new buildings</source>
        <translation>optional, z. B. new buildings</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/change.py" line="32"/>
        <source>Only changes to</source>
        <translation>Nur Veränderungen zu</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/change.py" line="33"/>
        <source>Detect changes</source>
        <translation>Veränderungen erkennen</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/change.py" line="44"/>
        <source>Choose the raster of date B.</source>
        <translation>Wählen Sie das Raster von Zeitpunkt B.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/change.py" line="53"/>
        <source>GeoMeld change detection</source>
        <translation>GeoMeld-Veränderungserkennung</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/change.py" line="57"/>
        <source>Changed places</source>
        <translation>Veränderte Orte</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/change.py" line="62"/>
        <source>{0} changed pixels.</source>
        <translation>{0} veränderte Pixel.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="20"/>
        <source>Embeddings describe every pixel for the model; they are computed once and cached for all other tabs.</source>
        <translation>Embeddings beschreiben jedes Pixel für das Modell; sie werden einmal berechnet und für alle anderen Reiter zwischengespeichert.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="28"/>
        <source>Stride</source>
        <translation>Schrittweite</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="32"/>
        <source>Show colour preview (PCA)</source>
        <translation>Farbvorschau anzeigen (PCA)</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="58"/>
        <source>GeoMeld embeddings</source>
        <translation>GeoMeld-Embeddings</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="61"/>
        <source>Embeddings written to {0}.</source>
        <translation>Embeddings geschrieben nach {0}.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="69"/>
        <source>GeoMeld colour preview</source>
        <translation>GeoMeld-Farbvorschau</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="72"/>
        <source>Embedding preview (PCA)</source>
        <translation>Embedding-Vorschau (PCA)</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="73"/>
        <source>Similar colours mean similar embeddings.</source>
        <translation>Ähnliche Farben bedeuten ähnliche Embeddings.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="40"/>
        <source>water</source>
        <translation>Wasser</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="41"/>
        <source>forest</source>
        <translation>Wald</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="42"/>
        <source>farmland</source>
        <translation>Ackerland</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="43"/>
        <source>town</source>
        <translation>Ort</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/probe.py" line="31"/>
        <source>Class</source>
        <translation>Klasse</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/probe.py" line="33"/>
        <source>Click points on the map</source>
        <translation>Punkte auf der Karte anklicken</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/probe.py" line="41"/>
        <source>Training labels</source>
        <translation>Trainingsbeschriftungen</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/probe.py" line="48"/>
        <source>Train probe</source>
        <translation>Probe trainieren</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/probe.py" line="59"/>
        <source>Apply probe to the raster</source>
        <translation>Probe auf das Raster anwenden</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/probe.py" line="100"/>
        <source>Label some points first, or choose a layer and its class field.</source>
        <translation>Beschriften Sie zuerst einige Punkte oder wählen Sie einen Layer und sein Klassenfeld.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/probe.py" line="111"/>
        <source>GeoMeld probe training</source>
        <translation>GeoMeld-Probe-Training</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/probe.py" line="129"/>
        <source>Train a probe first.</source>
        <translation>Trainieren Sie zuerst eine Probe.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/probe.py" line="136"/>
        <source>GeoMeld probe classification</source>
        <translation>GeoMeld-Probe-Klassifikation</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/probe.py" line="140"/>
        <source>Probe classes</source>
        <translation>Probe-Klassen</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="44"/>
        <source>beach</source>
        <translation>Strand</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="63"/>
        <source>Describe what to find, e.g. water, not sea</source>
        <translation>Beschreiben Sie, was gefunden werden soll, z. B. water, not sea</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="69"/>
        <source>Search for &apos;{0}&apos;</source>
        <translation>Nach „{0}“ suchen</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="77"/>
        <source>Find places like a clicked one</source>
        <translation>Orte wie einen angeklickten finden</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="83"/>
        <source>Threshold</source>
        <translation>Schwellenwert</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="107"/>
        <source>Type what to look for first.</source>
        <translation>Geben Sie zuerst ein, wonach gesucht werden soll.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="118"/>
        <source>GeoMeld text query</source>
        <translation>GeoMeld-Textabfrage</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="130"/>
        <source>Places: {0}</source>
        <translation>Orte: {0}</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="165"/>
        <source>#{0}: score {1:.2f}, {2:.1f} ha</source>
        <translation>#{0}: Wert {1:.2f}, {2:.1f} ha</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="200"/>
        <source>Example</source>
        <translation>Beispiel</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="205"/>
        <source>GeoMeld query by example</source>
        <translation>GeoMeld-Suche nach Beispiel</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="205"/>
        <source>Like the example</source>
        <translation>Wie das Beispiel</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/segment.py" line="51"/>
        <source>Classes</source>
        <translation>Klassen</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/segment.py" line="21"/>
        <source>Segment by class names</source>
        <translation>Nach Klassennamen segmentieren</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/segment.py" line="59"/>
        <source>Clusters</source>
        <translation>Cluster</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/segment.py" line="28"/>
        <source>Find clusters</source>
        <translation>Cluster finden</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/segment.py" line="35"/>
        <source>Smallest polygon</source>
        <translation>Kleinstes Polygon</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/segment.py" line="36"/>
        <source>Polygons of the last class map</source>
        <translation>Polygone der letzten Klassenkarte</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/segment.py" line="50"/>
        <source>GeoMeld zero-shot segmentation</source>
        <translation>GeoMeld-Zero-Shot-Segmentierung</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/segment.py" line="59"/>
        <source>GeoMeld clusters</source>
        <translation>GeoMeld-Cluster</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/segment.py" line="72"/>
        <source>Make a class map first (class names, clusters or a probe).</source>
        <translation>Erstellen Sie zuerst eine Klassenkarte (Klassennamen, Cluster oder eine Probe).</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/segment.py" line="79"/>
        <source>GeoMeld polygons</source>
        <translation>GeoMeld-Polygone</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="29"/>
        <source>bundled GeoMeld-FM weights</source>
        <translation>mitgelieferte GeoMeld-FM-Gewichte</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="30"/>
        <source>Weights folder</source>
        <translation>Gewichte-Ordner</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="31"/>
        <source>default cache folder</source>
        <translation>Standard-Zwischenspeicherordner</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="32"/>
        <source>Cache folder</source>
        <translation>Zwischenspeicherordner</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="37"/>
        <source>Cache size limit</source>
        <translation>Größenlimit des Zwischenspeichers</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="38"/>
        <source>&apos;outputs&apos; in the cache folder</source>
        <translation>„outputs“ im Zwischenspeicherordner</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="39"/>
        <source>Output folder</source>
        <translation>Ausgabeordner</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="44"/>
        <source>Tile size (px)</source>
        <translation>Kachelgröße (px)</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="47"/>
        <source>automatic</source>
        <translation>automatisch</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="49"/>
        <source>CPU threads</source>
        <translation>CPU-Threads</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="53"/>
        <source>Device</source>
        <translation>Gerät</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="60"/>
        <source>Save settings</source>
        <translation>Einstellungen speichern</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="83"/>
        <source>Saved.</source>
        <translation>Gespeichert.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks.py" line="86"/>
        <source>Cancelled by the user; no output was written.</source>
        <translation>Vom Benutzer abgebrochen; es wurde keine Ausgabe geschrieben.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks.py" line="46"/>
        <source>GeoMeld failed unexpectedly ({0}); this is a bug: please report it with the details in the GeoMeld log panel.</source>
        <translation>GeoMeld ist unerwartet fehlgeschlagen ({0}); das ist ein Fehler im Plugin: bitte melden Sie ihn mit den Details aus dem GeoMeld-Protokoll.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks.py" line="118"/>
        <source>The Processing algorithm {0} is not available.</source>
        <translation>Der Processing-Algorithmus {0} ist nicht verfügbar.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks.py" line="126"/>
        <source>The GeoMeld algorithm {0} failed.</source>
        <translation>Der GeoMeld-Algorithmus {0} ist fehlgeschlagen.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/probe.py" line="141"/>
        <source>Label here next</source>
        <translation>Hier als Nächstes beschriften</translation>
    </message>
    <message>
        <location filename="../plugin/dependencies.py" line="122"/>
        <source>it is built with PROJ {0} but QGIS uses PROJ {1}, which crashes QGIS; use the pyproj of your QGIS installation (uninstall the one from pip)</source>
        <translation>es ist mit PROJ {0} gebaut, QGIS verwendet aber PROJ {1}, wodurch QGIS abstürzt; verwenden Sie das pyproj Ihrer QGIS-Installation (deinstallieren Sie das aus pip)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="119"/>
        <source>Scores every pixel against a free-text description such as &apos;water&apos;, &apos;pine forest&apos; or &apos;water, not sea&apos; and writes a 0-1 heatmap (0.5 = more like the text than like any ordinary land cover), optionally a mask of the pixels above the threshold and polygons of the best matching places with their areas. The first query of a raster indexes its embedding once; later queries take a fraction of a second.</source>
        <translation>Bewertet jedes Pixel anhand einer freien Textbeschreibung wie „water“, „pine forest“ oder „water, not sea“ und schreibt eine Heatmap von 0 bis 1 (0,5 = ähnlicher zum Text als zu jeder gewöhnlichen Landbedeckung), optional eine Maske der Pixel über dem Schwellenwert und Polygone der am besten passenden Orte mit ihren Flächen. Die erste Abfrage eines Rasters indiziert seine Einbettung einmalig; spätere Abfragen dauern nur Sekundenbruchteile.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="130"/>
        <source>Score every pixel (slower; default: score the embedding&apos;s codebook)</source>
        <translation>Jedes Pixel bewerten (langsamer; Standard: das Codebuch der Einbettung bewerten)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="66"/>
        <source>Reflectance scale (empty: detect; 10000 for most products, 1000 for x1000 ones)</source>
        <translation>Reflektanz-Skalierung (leer: erkennen; 10000 für die meisten Produkte, 1000 für x1000-Produkte)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="221"/>
        <source>Reflectance scale of date B (empty: detect)</source>
        <translation>Reflektanz-Skalierung von Datum B (leer: erkennen)</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="140"/>
        <source>detected from the values</source>
        <translation>aus den Werten erkannt</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="50"/>
        <source>Number dividing the pixel values into reflectance: 10000 for most products, 1000 for x1000 ones.</source>
        <translation>Zahl, durch die die Pixelwerte geteilt werden, um Reflektanz zu erhalten: 10000 für die meisten Produkte, 1000 für x1000-Produkte.</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="53"/>
        <source>Reflectance scale</source>
        <translation>Reflektanz-Skalierung</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="151"/>
        <source>detected: {0:g}</source>
        <translation>erkannt: {0:g}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="189"/>
        <source>The reflectance scale must be a positive number such as 10000 or 1000.</source>
        <translation>Die Reflektanz-Skalierung muss eine positive Zahl wie 10000 oder 1000 sein.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="225"/>
        <source>train the probe again</source>
        <translation>trainieren Sie die Probe neu</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="56"/>
        <source>Compute embeddings of many rasters</source>
        <translation>Embeddings vieler Raster berechnen</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="60"/>
        <source>Computes the embedding raster of every chosen raster into one folder (&lt;name&gt;_embedding.tif) and a VRT mosaic per coordinate system. Running it again skips the rasters whose embedding is complete, so an interrupted job resumes. A raster that fails is reported and the others go on. The rasters are embedded one after another here; with the address of a Dask scheduler (tcp://host:8786, Dask installed) they are spread over that cluster&apos;s workers.</source>
        <translation>Berechnet das Embedding-Raster jedes gewählten Rasters in einen Ordner (&lt;name&gt;_embedding.tif) und ein VRT-Mosaik je Koordinatensystem. Ein erneuter Lauf überspringt die Raster, deren Embedding vollständig ist, sodass ein unterbrochener Auftrag fortgesetzt wird. Ein fehlschlagendes Raster wird gemeldet, die übrigen laufen weiter. Die Raster werden hier nacheinander berechnet; mit der Adresse eines Dask-Schedulers (tcp://host:8786, Dask installiert) werden sie auf die Worker dieses Clusters verteilt.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="133"/>
        <source>Embeddings per polygon</source>
        <translation>Embeddings je Polygon</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="137"/>
        <source>For every polygon, the mean of the embeddings of the pixels inside it (and optionally their standard deviation), the numbers of valid and nodata pixels, the share of its area that the raster covers, its area in hectares and a status (full, partial, nodata, outside). Written as a GeoPackage with the polygons&apos; attributes, or as a Parquet table; a regression probe can learn from it.</source>
        <translation>Für jedes Polygon der Mittelwert der Embeddings der Pixel darin (und wahlweise ihre Standardabweichung), die Anzahl gültiger und fehlender Pixel, der vom Raster bedeckte Anteil seiner Fläche, seine Fläche in Hektar und ein Status (vollständig, teilweise, keine Daten, außerhalb). Geschrieben als GeoPackage mit den Attributen der Polygone oder als Parquet-Tabelle; eine Regressions-Probe kann daraus lernen.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="70"/>
        <source>Sentinel-2 rasters</source>
        <translation>Sentinel-2-Raster</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="73"/>
        <source>Band names in file order (empty: detect in each raster)</source>
        <translation>Bandnamen in Dateireihenfolge (leer: in jedem Raster erkennen)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="80"/>
        <source>Dask scheduler address (empty: here)</source>
        <translation>Adresse des Dask-Schedulers (leer: hier)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="83"/>
        <source>Mosaics</source>
        <translation>Mosaike</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="84"/>
        <source>Embedded</source>
        <translation>Berechnet</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="84"/>
        <source>Skipped</source>
        <translation>Übersprungen</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="84"/>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="98"/>
        <source>Choose one or more rasters.</source>
        <translation>Wählen Sie ein oder mehrere Raster.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="150"/>
        <source>Also the standard deviation</source>
        <translation>Auch die Standardabweichung</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="151"/>
        <source>Table</source>
        <translation>Tabelle</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="151"/>
        <source>GeoPackage (*.gpkg);;Parquet (*.parquet)</source>
        <translation>GeoPackage (*.gpkg);;Parquet (*.parquet)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="175"/>
        <source>Polygons: {0}.</source>
        <translation>Polygone: {0}.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/batch.py" line="112"/>
        <source>{0} failed: {1}</source>
        <translation>{0} fehlgeschlagen: {1}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="35"/>
        <source>Ridge regression</source>
        <translation>Ridge-Regression</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/regression.py" line="43"/>
        <source>Train regression probe</source>
        <translation>Regressions-Probe trainieren</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="51"/>
        <source>Learns to predict a number, such as elevation, NDVI or a survey indicator, from the embeddings under points or polygons that carry it in a numeric field. Reports the cross-validated R2, RMSE and MAE with random folds and, with a group field (a city, a year, a site), with whole groups held out, which tells how well the probe carries over to places it has not seen. Saves the probe for &apos;Apply regression probe&apos;.</source>
        <translation>Lernt, eine Zahl wie Höhe, NDVI oder einen Erhebungsindikator aus den Embeddings unter Punkten oder Polygonen vorherzusagen, die sie in einem numerischen Feld tragen. Meldet das kreuzvalidierte R2, RMSE und MAE mit zufälligen Folds und, mit einem Gruppenfeld (eine Stadt, ein Jahr, ein Gebiet), mit ganz zurückgehaltenen Gruppen; das zeigt, wie gut sich die Probe auf ungesehene Orte übertragen lässt. Speichert die Probe für „Regressions-Probe anwenden“.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="125"/>
        <source>Apply regression probe</source>
        <translation>Regressions-Probe anwenden</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="129"/>
        <source>Maps the number a regression probe learned (see &apos;Train regression probe&apos;) over every pixel of a raster and writes it as a float raster; pixels without data stay empty.</source>
        <translation>Berechnet die von einer Regressions-Probe gelernte Zahl (siehe „Regressions-Probe trainieren“) für jedes Pixel eines Rasters und schreibt sie als Gleitkomma-Raster; Pixel ohne Daten bleiben leer.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="61"/>
        <source>Points or polygons with values</source>
        <translation>Punkte oder Polygone mit Werten</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="62"/>
        <source>Numeric field to predict</source>
        <translation>Vorherzusagendes numerisches Feld</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="70"/>
        <source>Group field (held out whole in cross-validation)</source>
        <translation>Gruppenfeld (in der Kreuzvalidierung ganz zurückgehalten)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="82"/>
        <source>R2 (random folds)</source>
        <translation>R2 (zufällige Folds)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="82"/>
        <source>R2 (groups held out)</source>
        <translation>R2 (Gruppen zurückgehalten)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="137"/>
        <source>Regression probe file</source>
        <translation>Regressions-Probe-Datei</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/regression.py" line="138"/>
        <source>Predicted values</source>
        <translation>Vorhergesagte Werte</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="109"/>
        <source>Indicators</source>
        <translation>Indikatoren</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="38"/>
        <source>Many rasters: one embedding raster each and a mosaic per CRS; a second run resumes.</source>
        <translation>Viele Raster: je ein Embedding-Raster und ein Mosaik je KBS; ein zweiter Lauf setzt fort.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="43"/>
        <source>Rasters (*.tif *.tiff *.vrt *.jp2);;All files (*)</source>
        <translation>Raster (*.tif *.tiff *.vrt *.jp2);;Alle Dateien (*)</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="44"/>
        <source>Raster files</source>
        <translation>Rasterdateien</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="48"/>
        <source>Embed all</source>
        <translation>Alle berechnen</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="82"/>
        <source>GeoMeld embeddings of many rasters</source>
        <translation>GeoMeld-Embeddings vieler Raster</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/embed.py" line="79"/>
        <source>Choose the raster files and an output folder.</source>
        <translation>Wählen Sie die Rasterdateien und einen Ausgabeordner.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/regression.py" line="25"/>
        <source>Predict a number for every pixel from points or polygons that carry it.</source>
        <translation>Eine Zahl für jedes Pixel aus Punkten oder Polygonen vorhersagen, die sie tragen.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/regression.py" line="31"/>
        <source>Points or polygons</source>
        <translation>Punkte oder Polygone</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/regression.py" line="38"/>
        <source>Value to predict</source>
        <translation>Vorherzusagender Wert</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/regression.py" line="39"/>
        <source>Groups held out (optional)</source>
        <translation>Zurückgehaltene Gruppen (optional)</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/regression.py" line="49"/>
        <source>Map the value over the raster</source>
        <translation>Wert über das Raster kartieren</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/regression.py" line="70"/>
        <source>GeoMeld regression probe</source>
        <translation>GeoMeld-Regressions-Probe</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/regression.py" line="85"/>
        <source>GeoMeld regression map</source>
        <translation>GeoMeld-Regressionskarte</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/regression.py" line="60"/>
        <source>Choose a point or polygon layer and its numeric field.</source>
        <translation>Wählen Sie einen Punkt- oder Polygonlayer und sein numerisches Feld.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/regression.py" line="82"/>
        <source>Train a regression probe first.</source>
        <translation>Trainieren Sie zuerst eine Regressions-Probe.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/regression.py" line="88"/>
        <source>Predicted {0}</source>
        <translation>Vorhergesagt: {0}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="110"/>
        <source>Device: {0}</source>
        <translation>Gerät: {0}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/base.py" line="112"/>
        <source>Warning: {0}</source>
        <translation>Warnung: {0}</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="79"/>
        <source>Learns your classes from a handful of labelled points or polygons: the embeddings under the labels train a small classifier (the probe). Reports the cross-validated accuracy and per-class F1 score over pixels and with whole polygons (or blocks of points) held out, the figure to quote, draws the confusion matrix, and estimates each class&apos;s area adjusted by the held-out confusion matrix with its 95 % confidence interval (Olofsson et al. 2014) in an optional HTML or JSON report. Saves the probe as a JSON file (with its arrays in an .npz beside it) for &apos;Apply probe classifier&apos;.</source>
        <translation>Lernt Ihre Klassen aus wenigen beschrifteten Punkten oder Polygonen: Die Embeddings unter den Beschriftungen trainieren einen kleinen Klassifikator (die Probe). Meldet die kreuzvalidierte Genauigkeit und den F1-Wert je Klasse über Pixel und mit ganz zurückgehaltenen Polygonen (oder Punktblöcken), die zu zitierende Zahl, zeichnet die Konfusionsmatrix und schätzt in einem optionalen HTML- oder JSON-Bericht die Fläche jeder Klasse, korrigiert mit der Konfusionsmatrix der zurückgehaltenen Daten, mit ihrem 95-%-Konfidenzintervall (Olofsson et al. 2014). Speichert die Probe als JSON-Datei (mit ihren Arrays in einer .npz daneben) für „Probe-Klassifikator anwenden“.</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="100"/>
        <source>Accuracy report</source>
        <translation>Genauigkeitsbericht</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="100"/>
        <source>HTML page (*.html);;JSON (*.json)</source>
        <translation>HTML-Seite (*.html);;JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/probe.py" line="110"/>
        <source>Accuracy with whole polygons held out</source>
        <translation>Genauigkeit mit ganz zurückgehaltenen Polygonen</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="66"/>
        <source>Best score</source>
        <translation>Bester Wert</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="67"/>
        <source>Threshold to try when nothing was found</source>
        <translation>Vorgeschlagener Schwellenwert, wenn nichts gefunden wurde</translation>
    </message>
    <message>
        <location filename="../plugin/algorithms/query.py" line="100"/>
        <source>Nothing found: no pixel reaches the threshold {0:.2f}; the best score is {1:.2f}. Try a threshold of {2:.2f} to see the closest matches.</source>
        <translation>Nichts gefunden: Kein Pixel erreicht den Schwellenwert {0:.2f}; der beste Wert ist {1:.2f}. Versuchen Sie den Schwellenwert {2:.2f}, um die ähnlichsten Stellen zu sehen.</translation>
    </message>
    <message>
        <location filename="../plugin/dependencies.py" line="241"/>
        <source>They go into the Python of this QGIS: {0}</source>
        <translation>Sie werden in das Python dieses QGIS installiert: {0}</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="58"/>
        <source>True colour</source>
        <translation>Echtfarben</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="59"/>
        <source>Show the raster as the eye sees it: B04, B03, B02 (red, green, blue).</source>
        <translation>Das Raster so zeigen, wie das Auge es sieht: B04, B03, B02 (Rot, Grün, Blau).</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="60"/>
        <source>False colour</source>
        <translation>Falschfarben</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="61"/>
        <source>Show vegetation in red: B08, B04, B03 (near infrared, red, green).</source>
        <translation>Vegetation rot zeigen: B08, B04, B03 (nahes Infrarot, Rot, Grün).</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="66"/>
        <source>Show as</source>
        <translation>Anzeigen als</translation>
    </message>
    <message>
        <location filename="../plugin/dock.py" line="175"/>
        <source>This raster lacks a band of {0}.</source>
        <translation>Diesem Raster fehlt ein Kanal aus {0}.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/probe.py" line="120"/>
        <source>Open the accuracy report (areas with 95 % intervals)</source>
        <translation>Genauigkeitsbericht öffnen (Flächen mit 95-%-Intervallen)</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/search.py" line="147"/>
        <source>Nothing found for &apos;{0}&apos;: no pixel reaches the threshold {1:.2f}; the best score is {2:.2f}. Move the threshold slider to {3:.2f} to see the closest matches.</source>
        <translation>Nichts gefunden für „{0}“: Kein Pixel erreicht den Schwellenwert {1:.2f}; der beste Wert ist {2:.2f}. Schieben Sie den Schwellenwert-Regler auf {3:.2f}, um die ähnlichsten Stellen zu sehen.</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="54"/>
        <source>Show Sentinel-2 rasters in true colour (B04, B03, B02)</source>
        <translation>Sentinel-2-Raster in Echtfarben zeigen (B04, B03, B02)</translation>
    </message>
    <message>
        <location filename="../plugin/tabs/settings.py" line="55"/>
        <source>When the chosen raster shows its first three bands (coastal, blue, green), show it in true colour.</source>
        <translation>Wenn das gewählte Raster seine ersten drei Kanäle zeigt (Küste, Blau, Grün), es in Echtfarben zeigen.</translation>
    </message>
    <message>
        <location filename="../plugin/tasks.py" line="38"/>
        <source>GeoMeld needs the Python package &apos;{0}&apos;, which is not installed. Install GeoMeld&apos;s packages into the Python of this QGIS with: {1} (in QGIS desktop the GeoMeld panel offers to do it).</source>
        <translation>GeoMeld braucht das Python-Paket „{0}“, das nicht installiert ist. Installieren Sie die Pakete von GeoMeld in das Python dieses QGIS mit: {1} (in QGIS Desktop bietet das GeoMeld-Bedienfeld das an).</translation>
    </message>
</context>
</TS>
