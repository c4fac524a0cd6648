"""Picture measures: what the objective does not see, and a person does.

Plain NumPy functions over (H, W, 3) float images in [0, 1]. ``nst score``, the run's report,
the benchmarks and the tests all call these.

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

import functools
from collections.abc import Iterator, Sequence

import numpy as np

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
# A periodic modulation of the differences by less than this fraction of their mean is not seen:
# the block grid's bound of 1.05 (on-grid over off-grid differences) is a modulation of 2.5%.
MIN_LATTICE_DEPTH = 0.025
# The measures read an image in bands of this many rows: a print's float64 copy is never held whole.
BAND_ROWS = 256
# The lattice's spectrum: Welch's, over strips of this many rows (columns) and segments of this
# many px, each peak measured against the median of the spectrum within this fraction of its
# frequency around it, for periods from 2 px to LATTICE_LONGEST_PERIOD px.
_LATTICE_STRIP = 16
_LATTICE_SEGMENT = 128
_LATTICE_NEIGHBOURHOOD = 0.15
LATTICE_LONGEST_PERIOD = 64
# Noise images the lattice's chance level is the median over (fixed seeds: the same every time).
_CHANCE_DRAWS = 8
_LINE_NEIGHBOURS = 9
LINE_REACH = _LINE_NEIGHBOURS // 2  # boundaries each side of a line's window
_SEAM_NEIGHBOURS = 4


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


def _bands(
    image: np.ndarray, overlap: int, rows: int = BAND_ROWS, dtype: type = np.float64
) -> Iterator[tuple[int, np.ndarray]]:
    """The image's rows in float64 bands of ``rows`` rows, each with the index of its first row
    and ``overlap`` rows of the next band: a print's measures never hold a whole float64 copy of
    it (250 MB at 4096 x 2560)."""
    image = np.asarray(image)
    for top in range(0, len(image), rows):
        yield top, np.asarray(image[top : top + rows + overlap], dtype=dtype)


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
    for _, band in _bands(image, overlap=2, rows=BAND_ROWS // 4, dtype=np.float32):
        height, width = band.shape[0] - 2, band.shape[1] - 2
        if height <= 0 or width <= 0:
            continue
        neighbourhood = np.stack([band[dy : dy + height, dx : dx + width] for dy in range(3) for dx in range(3)])
        median = np.partition(neighbourhood, 4, axis=0)[4]
        outliers += int((np.abs(band[1:-1, 1:-1] - median) > threshold).any(axis=-1).sum())
        count += height * width
    return 1000.0 * outliers / count if count else 0.0


def difference_profiles(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean |difference| across each row boundary (between rows y and y + 1) and each column
    boundary, over the other axis and the channels: (H - 1,) and (W - 1,) profiles."""
    image = np.asarray(image)
    rows = np.zeros(max(len(image) - 1, 0))
    columns = np.zeros(max(image.shape[1] - 1, 0))
    for top, band in _bands(image, overlap=1):
        across_rows = np.abs(np.diff(band, axis=0)).mean(axis=(1, 2))
        rows[top : top + len(across_rows)] = across_rows
        columns += np.abs(np.diff(band[:BAND_ROWS], axis=1)).sum(axis=(0, 2))
    return rows, columns / (len(image) * image.shape[2])


def lattice_spectrum(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the image's row and column differences repeat: the frequencies (cycles per px) and,
    for each, the prominence of the power there over the median power around it, the larger of
    the row and the column spectrum. Each spectrum is Welch's estimate: the difference profiles
    of strips of :data:`_LATTICE_STRIP` lines, cut into overlapping segments of
    :data:`_LATTICE_SEGMENT` px, windowed, their power spectra averaged, and counted as at least
    the power of a modulation of the differences by :data:`MIN_LATTICE_DEPTH` of their mean
    (a fainter pattern, however regular, cannot be seen). About 1 for a large picture with no
    visible periodic pattern, and high at the frequency of a lattice; a small picture's estimate
    averages few segments, and by chance some frequency stands out (:func:`chance_prominence`)."""
    image = np.asarray(image)
    length = _segment_length(image.shape)
    spectra = [_welch_power(_strip_profiles(image, axis), length) for axis in (0, 1)]
    return np.fft.rfftfreq(max(length, 2)), np.maximum(*(_prominence(power) for power in spectra))


def _segment_length(shape: Sequence[int]) -> int:
    return min(_LATTICE_SEGMENT, *(side - 1 for side in shape[:2]))


@functools.lru_cache(maxsize=64)
def chance_prominence(height: int, width: int) -> float:
    """The largest :func:`lattice_spectrum` prominence (periods 2 to :data:`LATTICE_LONGEST_PERIOD`
    px) that a picture of this size with no pattern at all reaches by chance: the median over
    :data:`_CHANCE_DRAWS` white-noise difference profiles, as many and as long as the picture's.

    The spectrum is an average over the picture's strips and segments; the fewer there are, the
    more some frequency stands out. About 2.0 at 200x133 px, 1.3 at 512x320, 1.14 at 1024x640
    and 1.03 at 4096x2560: on a small picture a lattice must stand out over that to be seen."""
    length = _segment_length((height, width))
    periodic = np.fft.rfftfreq(max(length, 2)) >= 1.0 / LATTICE_LONGEST_PERIOD
    if not periodic.any():
        return 1.0
    highest = []
    for draw in range(_CHANCE_DRAWS):
        rng = np.random.default_rng(draw)
        spectra = []
        for across, along in ((width, height - 1), (height, width - 1)):
            strips = len(_strip_starts(across))
            spectra.append(_prominence(_welch_power(rng.standard_normal((strips, along)), length)))
        highest.append(float(np.max(np.maximum(*spectra)[periodic])))
    return float(np.median(highest))


def _strip_profiles(image: np.ndarray, axis: int) -> np.ndarray:
    """Difference profiles across boundaries along ``axis`` (0: between rows), one per strip of
    :data:`_LATTICE_STRIP` lines of the other axis: (strips, length)."""
    strips = []
    for start in _strip_starts(image.shape[1 - axis]):
        strip = image[:, start : start + _LATTICE_STRIP] if axis == 0 else image[start : start + _LATTICE_STRIP]
        strips.append(np.abs(np.diff(np.asarray(strip, np.float32), axis=axis)).mean(axis=(1 - axis, 2)))
    return np.asarray(strips, np.float64)


def _strip_starts(length: int) -> range:
    """Where the strips of :data:`_LATTICE_STRIP` lines start across ``length`` lines (one strip at
    least): the picture's profiles and :func:`chance_prominence`'s noise are cut alike."""
    return range(0, max(length - _LATTICE_STRIP + 1, 1), _LATTICE_STRIP)


def _welch_power(profiles: np.ndarray, length: int) -> np.ndarray:
    if length < 8:
        return np.ones(len(np.fft.rfftfreq(max(length, 2))))
    segments = np.lib.stride_tricks.sliding_window_view(profiles, length, axis=1)[:, :: max(1, length // 2)]
    means = segments.mean(axis=-1, keepdims=True)
    window = np.hanning(length)
    power = (np.abs(np.fft.rfft((segments - means) * window, axis=-1)) ** 2).mean(axis=(0, 1))
    # What a sinusoidal modulation of the differences by MIN_LATTICE_DEPTH of their mean gives:
    # a weaker one cannot be seen, however regular.
    visible = (MIN_LATTICE_DEPTH * window.sum() / 2) ** 2 * float(np.mean(np.square(means)))
    return np.maximum(power, visible)


def _prominence(power: np.ndarray) -> np.ndarray:
    """Each frequency's power over the median of its neighbours within :data:`_LATTICE_NEIGHBOURHOOD`
    of its frequency (at least 2 bins each side; the bins next to it, which a peak leaks into,
    left out); 1 where there are too few neighbours to tell (the lowest frequencies)."""
    prominence = np.ones_like(power)
    for index in range(len(power)):
        reach = max(3, round(_LATTICE_NEIGHBOURHOOD * index))
        below, above = power[max(1, index - reach) : max(1, index - 1)], power[index + 2 : index + reach + 1]
        around = np.concatenate([below, above])
        if index >= 2 and len(around) >= 4:
            prominence[index] = power[index] / max(float(np.median(around)), 1e-30)
    return prominence


def lattice(image: np.ndarray, photo: np.ndarray) -> float:
    """A periodic pattern the method added, of any period from 2 px to :data:`LATTICE_LONGEST_PERIOD`
    px: the largest, over those frequencies, of the image's :func:`lattice_spectrum` prominence
    over the photo's at the same frequency (the photo at the image's size, so that its own lattice,
    a JPEG's or an enlargement's, does not count), or over :func:`chance_prominence` where that is
    higher. About 1 or less for a clean picture of any size; at most 1.00 for the photo itself."""
    frequencies, image_prominence = lattice_spectrum(image)
    _, photo_prominence = lattice_spectrum(photo)
    periodic = frequencies >= 1.0 / LATTICE_LONGEST_PERIOD
    if not periodic.any():
        return 1.0
    chance = max(1.0, chance_prominence(*np.shape(image)[:2]))
    return float(np.max(image_prominence[periodic] / np.maximum(photo_prominence[periodic], chance)))


def line_prominence(image: np.ndarray) -> float:
    """The most prominent single row or column boundary: its mean |difference| over the median of
    the :data:`_LINE_NEIGHBOURS` boundaries centred on it, the largest over rows and columns."""
    best = 1.0
    for profile in difference_profiles(image):
        if len(profile) >= _LINE_NEIGHBOURS:
            best = max(best, float(np.max(line_ratios(profile))))
    return best


def line_ratios(profile: np.ndarray) -> np.ndarray:
    """Each boundary of a :func:`difference_profiles` profile over the median of the
    :data:`_LINE_NEIGHBOURS` centred on it: entry i is boundary i + LINE_REACH (the edges have no
    full window)."""
    windows = np.lib.stride_tricks.sliding_window_view(profile, _LINE_NEIGHBOURS)
    centre = profile[LINE_REACH : len(profile) - LINE_REACH]
    return centre / np.maximum(np.median(windows, axis=1), 1e-12)


def lines(image: np.ndarray, photo: np.ndarray) -> float:
    """:func:`line_prominence` of the image over the photo's (at the image's size): 1.00 means no
    row or column stands out more than the photo's own most prominent edge."""
    return line_prominence(image) / line_prominence(photo)


def seam(image: np.ndarray) -> float:
    """How much the picture, placed beside and below itself (2x2), shows where its copies meet: the
    mean |difference| across the wrap-around (last column to first column, last row to first
    row) over the mean |difference| across the :data:`_SEAM_NEIGHBOURS` row and column boundaries
    on either side of it. About 1 for a picture that wraps around; a photo's edges, which never
    met, score several times that.

    The reference is the picture beside the wrap-around, not all of it: a picture's detail is not
    spread evenly (its subject is busier than its sky), and against the whole picture's mean one
    line of a seamless picture scores anywhere from 0.8 to 1.4 (80x128 px); against its neighbours,
    0.8 to 1.2, and closer to 1 the longer the line."""
    image = np.asarray(image)
    reach = min(_SEAM_NEIGHBOURS, image.shape[0] // 2, image.shape[1] // 2)
    # The wrap-around in the middle of a band of 2 x reach rows (columns): boundary `reach - 1` is it.
    rows = np.concatenate([image[-reach:], image[:reach]]).astype(np.float64)
    columns = np.concatenate([image[:, -reach:], image[:, :reach]], axis=1).astype(np.float64)
    across_rows, across_columns = np.abs(np.diff(rows, axis=0)), np.abs(np.diff(columns, axis=1))
    seam = np.concatenate([across_rows[reach - 1].ravel(), across_columns[:, reach - 1].ravel()])
    beside = np.concatenate([np.delete(across_rows, reach - 1, axis=0).ravel(),
                             np.delete(across_columns, reach - 1, axis=1).ravel()])  # fmt: skip
    return float(seam.mean() / max(beside.mean(), 1e-12))


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
