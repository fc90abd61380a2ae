"""The teachers' own patch features, for the evaluation's baseline rows (what the student is distilled towards).

Galileo-Nano: the mean of its tokens at patch size 8 (its pooled embedding). Presto: the mean and max of its
pixel embeddings over every 4th row and column of a patch (one timestep). Both read images in the model's band
order as reflectance fractions; patches are grouped by band set and month so each batch is one teacher call.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from training.teachers.galileo import GalileoNano
from training.teachers.presto import Presto
from training.teachers.targets import BATCH, GALILEO_CHANNELS, PATCH_SIZE, PRESTO_CHANNELS

PIXEL_STEP = 4


class TeacherFeatures:
    """Feature functions (images, band_mask, valid) -> (N, F) of the two teachers in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.galileo = GalileoNano.load(Path(folder) / "galileo_nano")
        self.presto = Presto.load(Path(folder) / "presto")

    def galileo_pooled(self, images: np.ndarray, band_mask: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """(N, 128) Galileo-Nano pooled embeddings (mean of the seen S2 groups' tokens), cropped to the patch grid."""
        del valid
        height, width = (size - size % PATCH_SIZE for size in images.shape[-2:])
        rows = []
        for start in range(0, len(images), BATCH):
            part = images[start : start + BATCH, GALILEO_CHANNELS, :height, :width]
            dn = torch.from_numpy(np.ascontiguousarray(part.transpose(0, 2, 3, 1)) * 10000.0).float()
            missing = torch.from_numpy(band_mask[start : start + BATCH, GALILEO_CHANNELS] == 0)
            tokens, seen = self.galileo.encode_s2(dn, PATCH_SIZE, missing=missing if missing.any() else None)
            rows.append(GalileoNano.pooled_mean(tokens, seen).numpy())
        return np.concatenate(rows).astype(np.float32)

    def presto_mean_max(self, images: np.ndarray, band_mask: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """(N, 256) mean and max of Presto's embeddings of every 4th pixel (valid ones) of each patch."""
        rows = []
        for image, mask, present in zip(images, valid, band_mask):
            grid = np.zeros_like(mask)
            grid[::PIXEL_STEP, ::PIXEL_STEP] = True
            picked = grid & mask if (grid & mask).any() else grid
            dn = image[PRESTO_CHANNELS][:, picked].T * 10000.0
            missing = np.broadcast_to(present[PRESTO_CHANNELS] == 0, dn.shape)
            embedding = self.presto.embed_s2_pixels(
                torch.from_numpy(np.ascontiguousarray(dn)).float(),
                torch.zeros(len(dn), 2),
                missing=torch.from_numpy(np.ascontiguousarray(missing)) if missing.any() else None,
            ).numpy()
            rows.append(np.concatenate([embedding.mean(axis=0), embedding.max(axis=0)]))
        return np.asarray(rows, dtype=np.float32)
