"""Float32 matrix products through BLAS's Fortran interface (scipy.linalg.blas.sgemm), not numpy's CBLAS calls.

QGIS desktop on Linux loads GSL's reference CBLAS (libgslcblas, for its georeferencer) before Python starts, and
numpy's `cblas_sgemm` then binds to it instead of OpenBLAS: inside QGIS `a @ b` ran 6 to 25 times slower than in a
plain Python (assigning the demo scene's pixels to their codebook centroids: 121 s instead of 5). GSL has no Fortran
symbols, so `sgemm_` still binds to the real BLAS; on Windows and macOS, whose libraries do not interpose, this is
simply the same BLAS call. Arrays in either memory order are passed without a copy.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import blas


def _transposed(matrix: np.ndarray) -> tuple[np.ndarray, bool]:
    """The matrix's transpose for BLAS, which reads column-major arrays: (array, transpose flag) so that the array
    with the flag applied is matrix.T; no copy for either memory order."""
    if matrix.flags.c_contiguous:
        return matrix.T, False  # a row-major matrix is its transpose in column-major order
    if matrix.flags.f_contiguous:
        return matrix, True
    return np.ascontiguousarray(matrix).T, False


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b in float32 for a (N, D) and b (D, K) or (D,): (N, K) (row-major) or (N,).

    BLAS computes (a @ b).T = b.T @ a.T in column-major order, which is a @ b in row-major order.
    """
    a = np.asarray(a, dtype=np.float32)
    vector = np.ndim(b) == 1
    b = np.asarray(b, dtype=np.float32).reshape(len(b), -1)
    if 0 in a.shape or 0 in b.shape:
        product = np.zeros((a.shape[0], b.shape[1]), dtype=np.float32)
    else:
        (left, trans_a), (right, trans_b) = _transposed(b), _transposed(a)
        product = blas.sgemm(1.0, left, right, trans_a=trans_a, trans_b=trans_b).T
    return product[:, 0] if vector else product
