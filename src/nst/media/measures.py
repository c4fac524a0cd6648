"""Picture measures: what the objective does not see, and a person does.

Plain NumPy functions over (H, W, 3) float images in [0, 1]. ``nst score``, the run's report,
the benchmarks and the tests all call these. ``lattice``, ``lines`` and ``seam``, which read the
picture's rows and columns, are in :mod:`~nst.media.pattern_measures`.

* ``grid``: a block grid the method added (flat 2x2, 4x4... squares on a regular lattice);
  1.00 means none added.
* ``noise``: pixel-level speckle, as the mean |Laplacian| relative to the photo's and the
  painting's; above 1 means busier than either.
* ``outliers``: sparse speckle that a mean does not see, the per mille of pixels more than 0.35
  from their 3x3 median (``outliers_painting``: the painting's own, at the picture's size).
* ``lattice``: a periodic pattern of any period (an enlargement's interpolation lattice at
  4.76 px, say), as the most prominent peak in the spectrum of the row and column difference
  profiles, relative to the photo's or to what chance gives at the picture's size, whichever is
  higher; about 1.00 (or less) means none added.
* ``lines``: single straight rows or columns that stand out from their neighbours, relative to
  the photo's own most prominent one; 1.00 means none added.
* ``seam`` (a tileable picture): the mean |difference| across the wrap-around (last column to
  first, last row to first), relative to the neighbour differences beside it; at most 1.1 for
  a picture that placed side by side with itself shows no seam.
* ``temporal_error`` (video): flicker, how far each frame is from the previous one carried
  along the motion, where the motion is known.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nst.media.bands import BAND_ROWS, bands
from nst.media.pattern_measures import LATTICE_LONGEST_PERIOD, lattice, lines

GRID_BLOCKS = (2, 4, 8, 16, 32)
# The bounds a clean picture stays within (docs/quality.md): no grid added, no more speckle
# than 1.3 times the busier of photo and painting.
MAX_GRID, MAX_NOISE = 1.05, 1.3
# Sparse outliers: at most 3 per mille of the pixels, or the painting's own fraction if higher.
MAX_OUTLIERS = 3.0
OUTLIER_THRESHOLD = 0.35
# What a print must stay within: no lattice and no stray line more prominent than 1.3 times the photo's.
MAX_LATTICE, MAX_LINES = 1.3, 1.3
# A tileable picture: its wrap-around at most this much busier than its other neighbours.
MAX_SEAM = 1.1


def boundary_ratio(image: np.ndarray, block: int) -> float:
    """Mean |difference| between neighbouring pixels across the row and column boundaries on
    multiples of ``block``, divided by the mean across all other boundaries.

    A boundary at x lies between pixels x - 1 and x. 1.0 for an image without a grid of that
    period; a picture made of flat ``block`` x ``block`` squares has only the on-grid steps."""
    on_columns = (np.arange(1, image.shape[1]) % block) == 0
    on_sum = off_sum = 0.0
    on_count = off_count = 0
    for top, band in bands(image, overlap=1):
        across_columns = np.abs(np.diff(band[:BAND_ROWS], axis=1))  # boundary x = index + 1
        across_rows = np.abs(np.diff(band, axis=0))  # boundary y = top + index + 1
        on_rows = ((np.arange(len(across_rows)) + top + 1) % block) == 0
        on, off = across_columns[:, on_columns], across_columns[:, ~on_columns]
        on_sum += on.sum() + across_rows[on_rows].sum()
        off_sum += off.sum() + across_rows[~on_rows].sum()
        on_count += on.size + across_rows[on_rows].size
        off_count += off.size + across_rows[~on_rows].size
    if on_count == 0 or off_count == 0:
        return 1.0
    return float((on_sum / on_count) / max(off_sum / off_count, 1e-12))


def grid(image: np.ndarray, photo: np.ndarray, blocks: Sequence[int] = GRID_BLOCKS) -> float:
    """The largest over ``blocks`` of the image's boundary ratio divided by the photo's.

    ``photo`` is the photo at the image's size. Its own ratio (a JPEG's 8x8 grid, say) is
    divided out, counted as at least 1, so that only a grid the method added scores above
    1.00. Blocks at least as large as the image's shorter side are skipped."""
    shorter = min(image.shape[:2])
    ratios = [
        boundary_ratio(image, block) / max(1.0, boundary_ratio(photo, block)) for block in blocks if block < shorter
    ]
    return max(ratios, default=1.0)


def mean_abs_laplacian(image: np.ndarray) -> float:
    """Mean |4-neighbour Laplacian| over the interior pixels and the channels."""
    total, count = 0.0, 0
    for _, band in bands(image, overlap=2):
        centre = band[1:-1, 1:-1]
        neighbours = band[:-2, 1:-1] + band[2:, 1:-1] + band[1:-1, :-2] + band[1:-1, 2:]
        total += float(np.abs(neighbours - 4 * centre).sum())
        count += centre.size
    return total / count if count else 0.0


def noise(image: np.ndarray, photo: np.ndarray, paintings: Sequence[np.ndarray]) -> float:
    """The image's mean |Laplacian| over the largest of the photo's and the paintings'.

    ``photo`` and ``paintings`` are at the image's size (for a painting: its longer side the
    image's longer side), since a Laplacian's size depends on the scale of the picture."""
    reference = max(mean_abs_laplacian(other) for other in [photo, *paintings])
    return mean_abs_laplacian(image) / max(reference, 1e-12)


def outlier_fraction(image: np.ndarray, threshold: float = OUTLIER_THRESHOLD) -> float:
    """The per mille of interior pixels whose value differs from the median of their 3x3
    neighbourhood by more than ``threshold`` in some channel: isolated saturated pixels, a
    sprinkle that the mean |Laplacian| averages away."""
    outliers, count = 0, 0
    for _, band in bands(image, overlap=2, rows=BAND_ROWS // 4, dtype=np.float32):
        height, width = band.shape[0] - 2, band.shape[1] - 2
        if height <= 0 or width <= 0:
            continue
        neighbourhood = np.stack([band[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3)])
        median = np.partition(neighbourhood, 4, axis=0)[4]
        outliers += int((np.abs(band[1:-1, 1:-1] - median) > threshold).any(axis=-1).sum())
        count += height * width
    return 1000.0 * outliers / count if count else 0.0


def picture_measures(image: np.ndarray, photo: np.ndarray, paintings: Sequence[np.ndarray]) -> dict[str, float]:
    """``{"grid", "noise", "outliers", "outliers_painting", "lattice", "lines"}`` of an image,
    rounded to what is meaningful (``outliers_painting``: the most of the paintings')."""
    return {
        "grid": round(grid(image, photo), 4),
        "noise": round(noise(image, photo, paintings), 4),
        "outliers": round(outlier_fraction(image), 3),
        "outliers_painting": round(max(outlier_fraction(painting) for painting in paintings), 3),
        "lattice": round(lattice(image, photo), 4),
        "lines": round(lines(image, photo), 4),
    }


# What each figure of a score means, and the bound a clean picture keeps: `nst score --help`.
MEANINGS = {
    "total": "the weighted sum of the losses below (what the run minimises)",
    "content": "how far the picture's block5_conv2 features are from the photo's",
    "style": "how far its Gram matrices are from the painting's (block1_conv1 to block5_conv1)",
    "tv": "total variation: how much neighbouring pixels differ",
    "grid": f"a block grid the method added: over the photo's (1.00: none; at most {MAX_GRID})",
    "noise": f"speckle: mean |Laplacian| over the busier of photo and painting (at most {MAX_NOISE})",
    "outliers": f"isolated pixels, per mille (at most {MAX_OUTLIERS:g}, or the painting's own)",
    "outliers_painting": "the painting's own isolated pixels, per mille (the bound where higher)",
    "lattice": f"a periodic pattern (2 to {LATTICE_LONGEST_PERIOD} px) added: over the photo's (at most {MAX_LATTICE})",
    "lines": f"the most prominent single row or column: over the photo's (at most {MAX_LINES})",
    "seam": f"with --tileable, the wrap-around over the picture's other neighbours (at most {MAX_SEAM})",
}


def outlier_bound(values: dict[str, float]) -> float:
    """The most outliers a clean picture may have: :data:`MAX_OUTLIERS` per mille, or the painting's own."""
    return max(MAX_OUTLIERS, values.get("outliers_painting", 0.0))


def is_clean(values: dict[str, float]) -> bool:
    """Whether picture measures are within :data:`MAX_GRID`, :data:`MAX_NOISE` and the outlier bound."""
    outliers_ok = values.get("outliers", 0.0) <= outlier_bound(values)
    return values["grid"] <= MAX_GRID and values["noise"] <= MAX_NOISE and outliers_ok


def temporal_error(
    frames: Sequence[np.ndarray], warped_previous: Sequence[np.ndarray], reliable: Sequence[np.ndarray]
) -> float:
    """The mean squared difference between each frame and the previous frame warped onto it,
    over the pixels its mask keeps (masks (H, W), 1 kept, 0 left out), averaged over the
    frames: 0 for a clip whose pictures move exactly with the motion, larger as it flickers."""
    errors = []
    for frame, warped, mask in zip(frames, warped_previous, reliable, strict=True):
        squared = np.square(np.asarray(frame, np.float64) - np.asarray(warped, np.float64)).mean(axis=-1)
        errors.append(float((squared * mask).sum() / max(float(np.sum(mask)), 1.0)))
    return float(np.mean(errors)) if errors else 0.0
