"""Print sizes' plans without the network: the tiles' positions and shifts, the ladder of a print,
and the memory each size is planned in (the tiled runs: tests/test_tiles.py)."""

import numpy as np
import pytest

from nst import Options
from nst.errors import NstError
from nst.media.tiling import Tiling
from nst.options import layer_shape, layer_stride
from nst.run import ladder, memory
from nst.run.memory import estimate_peak_mb, plan_size
from tests.helpers import moved_on


@pytest.mark.parametrize(("shape", "wrap"), [((64, 96), False), ((100, 75), False), ((257, 130), False),
                                            ((64, 96), True), ((48, 160), True)])  # fmt: skip
@pytest.mark.parametrize(("tile", "halo"), [(32, 0), (32, 16), (64, 32)])
def test_the_tiles_own_positions_cover_every_layer_once(shape, wrap, tile, halo):
    """Also where the picture wraps around (tileable): its crops then run across its edges."""
    tiling = Tiling(shape, tile, halo, wrap=wrap)
    for name in ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"):
        covered = np.zeros(layer_shape(name, shape), int)
        for each in tiling.tiles:
            np.add.at(covered, np.ix_(*tiling.positions(each, layer_stride(name))),
                      tiling.own_positions(each, name)[0, ..., 0].astype(int))  # fmt: skip
            assert (each.corner[0] % 16, each.corner[1] % 16) == (0, 0)  # crops start on VGG19's grid
        np.testing.assert_array_equal(covered, 1)
    if not wrap:
        assert all(crop <= side for crop, side in zip(tiling.crop, shape, strict=True))


@pytest.mark.parametrize("wrap", [False, True])
def test_a_shifted_tiling_shows_the_picture_1_px_on_and_adds_each_gradient_back_where_it_came_from(wrap):
    shape = (64, 96)
    plain, shifted = (Tiling(shape, 32, 16, wrap=wrap, shift=shift) for shift in (0, 1))
    rng = np.random.default_rng(0)
    image = rng.random((*shape, 3))
    for tile in plain.tiles:
        np.testing.assert_array_equal(shifted.crop_pixels(image, tile), plain.crop_pixels(moved_on(image, wrap), tile))
        values = rng.random(shifted.crop_pixels(image, tile).shape)
        added = np.zeros_like(image)
        shifted.add(added, tile, values)
        # add is crop_pixels's transpose (the edge pixels shown twice get both): a gradient goes back
        assert np.sum(shifted.crop_pixels(image, tile) * values) == pytest.approx(np.sum(image * added), rel=1e-12)


def test_a_print_is_made_from_the_viewing_size_up_with_fewer_steps_at_each_larger_size():
    assert ladder.scale_sizes(Options(size=1024, ladder="print")) == [1024]  # up to 2 x 512: one size
    assert ladder.scale_sizes(Options(size=4096, ladder="print")) == [512, 861, 1448, 2435, 4096]  # never exactly twice
    assert ladder.steps_per_size(Options(size=4096, ladder="print", steps=100)) == [100, 50, 25, 12, 10]
    assert ladder.scale_sizes(Options(size=1500, ladder="print")) == [512, 876, 1500]
    # The painting ladder (the default) lays the forms down below the viewing size first.
    assert ladder.scale_sizes(Options(size=4096)) == [128, 256, 512, 861, 1448, 2435, 4096]
    assert ladder.steps_per_size(Options(size=4096, steps=100, coarse_steps=30)) == [30, 30, 100, 50, 25, 12, 10]
    assert ladder.scale_sizes(Options(size=4096, scales=1)) == [4096]  # asked for: the output size only
    assert ladder.steps_per_size(Options(size=512, scales=3, scale_start=128, coarse_steps=7, steps=100)) == [7, 7, 100]


def test_runs_are_planned_a_share_of_the_limit_and_a_margin_under_it_and_more_cpus_cost_more(monkeypatch):
    assert memory.planned_mb(6000) == pytest.approx(5400)  # 10% of a large limit
    assert memory.planned_mb(1800) == pytest.approx(1500)  # at least 300 MB under a small one
    for limit in (1000, 1800, 6000):
        assert memory.limit_needed_mb(memory.planned_mb(limit)) == pytest.approx(limit)
    monkeypatch.setattr(memory, "_cpus", lambda: 2)
    two = estimate_peak_mb(Options(), 512, 512)
    monkeypatch.setattr(memory, "_cpus", lambda: 16)
    assert estimate_peak_mb(Options(), 512, 512) == pytest.approx(two + 14 * memory._PER_THREAD_MB)


def test_memory_picks_the_largest_tile_then_fewer_pairs_then_adam():
    roomy = plan_size(Options(size=4096, max_memory=200_000), 2560, 4096)
    assert (roomy.tile, roomy.lbfgs_history, roomy.optimizer) == (None, 30, "lbfgs")
    middle = plan_size(Options(size=4096, max_memory=6000), 1522, 2435)  # 2435 px: L-BFGS, fewer pairs
    assert middle.optimizer == "lbfgs" and middle.tile >= 512 and 3 <= middle.lbfgs_history < 30
    tiled = plan_size(Options(size=4096, tile=512, max_memory=200_000), 2560, 4096)  # room for 30
    assert (tiled.tile, tiled.lbfgs_history, tiled.optimizer) == (512, memory._MOST_TILED_PAIRS, "lbfgs")
    assert plan_size(Options(size=4096, tile=512, max_memory=200_000), 2560, 4096, steps=50).lbfgs_history == 25
    tight = plan_size(Options(size=4096, max_memory=6000), 2560, 4096)  # L-BFGS only in small tiles: Adam
    assert tight.optimizer == "adam" and tight.tile >= 512 and tight.estimate_mb <= memory.planned_mb(6000)
    assert plan_size(Options(size=4096, max_memory=1000), 2560, 4096) is None


def test_a_painting_larger_than_a_picture_that_fits_whole_is_seen_in_tiles_and_the_picture_stays_whole(monkeypatch):
    monkeypatch.setattr(memory, "_cpus", lambda: 2)
    options, painting = Options(size=512, max_memory=3000), [(3000, 2376)]
    assert estimate_peak_mb(options, 384, 512, painting) > memory.planned_mb(3000)  # whole, it would not fit
    plan = plan_size(options, 384, 512, painting)
    assert plan.tile is None and plan.optimizer == "lbfgs" and plan.painting_tile in memory._TILES
    assert plan.estimate_mb <= memory.planned_mb(3000)
    assert estimate_peak_mb(options, 384, 512, painting, painting_tile=plan.painting_tile) == plan.estimate_mb
    # The largest painting tile that fits: the next larger one would not.
    assert plan.painting_tile != memory._TILES[0]
    larger = memory._TILES[memory._TILES.index(plan.painting_tile) - 1]
    assert estimate_peak_mb(options, 384, 512, painting, painting_tile=larger) > memory.planned_mb(3000)
    # A painting no larger than the picture is seen whole.
    assert plan_size(options, 384, 512, [(512, 384)]).painting_tile is None


def test_nst_max_memory_is_the_limit_unless_max_memory_says_and_a_bad_one_is_one_line(monkeypatch):
    """A batch worker's share of the memory (or a container's) comes through the environment."""
    monkeypatch.setattr(memory, "available_mb", lambda: 24000.0)
    monkeypatch.delenv(memory.MEMORY_VARIABLE, raising=False)
    assert memory.memory_limit(Options()) == 24000.0
    monkeypatch.setenv(memory.MEMORY_VARIABLE, "1700")
    assert memory.memory_limit(Options()) == 1700.0
    assert plan_size(Options(), 120, 160).tile == 128  # what fitted whole in 24 GB runs in tiles in 1.7
    assert memory.memory_limit(Options(max_memory=3000)) == 3000.0
    for bad in ("lots", "-5", "inf"):
        monkeypatch.setenv(memory.MEMORY_VARIABLE, bad)
        with pytest.raises(NstError, match=rf"^NST_MAX_MEMORY must be a number of MB > 0, got '{bad}'$"):
            memory.memory_limit(Options())
