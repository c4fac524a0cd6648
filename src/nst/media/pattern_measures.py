"""The picture measures of its rows and columns: ``lattice``, a periodic pattern; ``lines``, single
rows or columns that stand out; ``seam``, a tileable picture's wrap-around. What each means and
the bounds a clean picture keeps: :mod:`~nst.media.measures`, which reports them with the others."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from nst.media.bands import BAND_ROWS, bands

# A periodic modulation of the differences by less than this fraction of their mean is not seen:
# the block grid's bound of 1.05 (on-grid over off-grid differences) is a modulation of 2.5%.
MIN_LATTICE_DEPTH = 0.025
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


def difference_profiles(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean |difference| across each row boundary (between rows y and y + 1) and each column
    boundary, over the other axis and the channels: (H - 1,) and (W - 1,) profiles."""
    image = np.asarray(image)
    rows = np.zeros(max(len(image) - 1, 0))
    columns = np.zeros(max(image.shape[1] - 1, 0))
    for top, band in bands(image, overlap=1):
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
