"""Picture measures: what the objective does not see, and a person does.

Plain NumPy functions over (H, W, 3) float images in [0, 1]. ``nst score``, the run's report,
the benchmarks and the tests all call these.

* ``grid``: a block grid the method added (flat 2x2, 4x4... squares on a regular lattice);
  1.00 means none added.
* ``noise``: pixel-level speckle, as the mean |Laplacian| relative to the photo's and the
  painting's; above 1 means busier than either.
* ``temporal_error`` (video): flicker, how far each frame is from the previous one carried
  along the motion, where the motion is known.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

GRID_BLOCKS = (2, 4, 8, 16, 32)
# The bounds a clean picture stays within (docs/quality.md): no grid added, no more speckle
# than 1.3 times the busier of photo and painting.
MAX_GRID, MAX_NOISE = 1.05, 1.3
# The measures read an image in bands of this many rows: a print's float64 copy is never held whole.
BAND_ROWS = 256


def boundary_ratio(image: np.ndarray, block: int) -> float:
    """Mean |difference| between neighbouring pixels across the row and column boundaries on
    multiples of ``block``, divided by the mean across all other boundaries.

    A boundary at x lies between pixels x - 1 and x. 1.0 for an image without a grid of that
    period; a picture made of flat ``block`` x ``block`` squares has only the on-grid steps."""
    on_columns = (np.arange(1, image.shape[1]) % block) == 0
    on_sum = off_sum = 0.0
    on_count = off_count = 0
    for top, band in _bands(image, overlap=1):
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
    for _, band in _bands(image, overlap=2):
        centre = band[1:-1, 1:-1]
        neighbours = band[:-2, 1:-1] + band[2:, 1:-1] + band[1:-1, :-2] + band[1:-1, 2:]
        total += float(np.abs(neighbours - 4 * centre).sum())
        count += centre.size
    return total / count if count else 0.0


def _bands(image: np.ndarray, overlap: int) -> Iterator[tuple[int, np.ndarray]]:
    """The image's rows in float64 bands of ``BAND_ROWS`` rows, each with the index of its first
    row and ``overlap`` rows of the next band: a print's measures never hold a whole float64 copy
    of it (250 MB at 4096 x 2560)."""
    image = np.asarray(image)
    for top in range(0, len(image), BAND_ROWS):
        yield top, np.asarray(image[top : top + BAND_ROWS + overlap], dtype=np.float64)


def noise(image: np.ndarray, photo: np.ndarray, paintings: Sequence[np.ndarray]) -> float:
    """The image's mean |Laplacian| over the largest of the photo's and the paintings'.

    ``photo`` and ``paintings`` are at the image's size (for a painting: its longer side the
    image's longer side), since a Laplacian's size depends on the scale of the picture."""
    reference = max(mean_abs_laplacian(other) for other in [photo, *paintings])
    return mean_abs_laplacian(image) / max(reference, 1e-12)


def picture_measures(image: np.ndarray, photo: np.ndarray, paintings: Sequence[np.ndarray]) -> dict[str, float]:
    """``{"grid", "noise"}`` of an image, rounded to what is meaningful."""
    return {"grid": round(grid(image, photo), 4), "noise": round(noise(image, photo, paintings), 4)}


def is_clean(values: dict[str, float]) -> bool:
    """Whether picture measures (``grid``, ``noise``) are within :data:`MAX_GRID` and :data:`MAX_NOISE`."""
    return values["grid"] <= MAX_GRID and values["noise"] <= MAX_NOISE


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
