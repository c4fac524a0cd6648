"""A picture read in bands of rows, the way the picture measures (:mod:`~nst.media.measures`,
:mod:`~nst.media.pattern_measures`) read it."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

# The measures read an image in bands of this many rows: a print's float64 copy is never held whole.
BAND_ROWS = 256


def bands(
    image: np.ndarray, overlap: int, rows: int = BAND_ROWS, dtype: type = np.float64
) -> Iterator[tuple[int, np.ndarray]]:
    """The image's rows in float64 bands of ``rows`` rows, each with the index of its first row
    and ``overlap`` rows of the next band: a print's measures never hold a whole float64 copy of
    it (250 MB at 4096 x 2560)."""
    image = np.asarray(image)
    for top in range(0, len(image), rows):
        yield top, np.asarray(image[top : top + rows + overlap], dtype=dtype)
