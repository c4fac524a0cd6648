"""Work on two Ray nodes (started on this machine by ray.cluster_utils.Cluster), the second
declaring a GPU it has not (Ray's fake resources).

nst batch: CPU workers run items on both nodes, equal to the single command's; without being
told, a worker takes the GPU and runs its item (on the CPU there is). The placement's plan:
tests/unit/test_batch.py.

One picture's tiles: on a worker of each node, a tiled step's losses and gradient are one
process's; a few steps make its picture; a worker killed in a step costs its tiles, not the
step; every worker lost keeps the checkpoint, and the same command goes on from it."""

import numpy as np
import pytest
import ray
from PIL import Image

from nst import Options, stylize
from nst.core.tiles import TiledObjective
from nst.errors import WorkersLost
from nst.media.images import load_image
from nst.run import batch
from nst.run.cluster import Workers
from nst.run.tile_workers import TileWorkers
from tests.helpers import (
    CONTENT,
    EXAMPLES,
    STYLE,
    losses_and_gradient,
    ray_cluster,
    relative_difference,
    relative_error,
    rng,
    within,
)

pytestmark = [pytest.mark.slow, pytest.mark.ray]

SETTINGS = {"size": 32, "steps": 8, "jit_compile": False}


@pytest.fixture(scope="module")
def two_nodes():
    """The head, and a node of 1 CPU that declares a GPU; the second node's ID."""
    with ray_cluster(num_cpus=1, num_gpus=1):
        [gpu_node] = [node["NodeID"] for node in ray.nodes() if node["Resources"].get("GPU")]
        yield gpu_node


def test_items_run_on_both_nodes_and_equal_the_single_commands(two_nodes, weights, tmp_path):
    photos = []
    for source in (CONTENT, EXAMPLES / "coffee.jpg"):
        with Image.open(source) as image:
            photos.append(tmp_path / f"{source.stem}.png")
            image.resize((48, 32)).save(photos[-1])
    paintings = [STYLE, EXAMPLES / "the-scream.jpg"]
    options = Options(weights=weights, **SETTINGS)
    cpu_workers = batch.Workers(count=2, gpus_per_worker=0)  # one on each node's CPU, not one on its GPU
    summary = batch.stylize_many(photos, paintings, tmp_path / "out", options, cluster=cpu_workers)
    assert [outcome.status for outcome in summary.items] == ["done"] * 4
    assert len({outcome.node for outcome in summary.items}) == 2
    assert {node["NodeID"][:12] for node in ray.nodes()} == {outcome.node for outcome in summary.items}
    for outcome in summary.items:
        single = stylize(outcome.input, [outcome.painting], options)
        with Image.open(outcome.output) as made:
            difference = np.asarray(made, dtype=np.int16) - np.asarray(single.image, dtype=np.int16)
        within("on two nodes, an item against the single command's, largest 8-bit difference", np.abs(difference).max(),
               at_most=1)  # fmt: skip


def test_by_default_a_worker_takes_the_clusters_gpu_and_runs_the_item(two_nodes, weights, tmp_path):
    gpus_free = []

    def watch(progress: batch.BatchProgress) -> None:
        if progress.outcome is not None:  # the worker is alive: what it holds is not free
            gpus_free.append(ray.available_resources().get("GPU", 0.0))

    options = Options(weights=weights, **{**SETTINGS, "steps": 3})
    summary = batch.stylize_many([CONTENT], [STYLE], tmp_path, options, callback=watch)
    assert [outcome.status for outcome in summary.items] == ["done"] and summary.workers == 1
    assert summary.items[0].node == two_nodes[:12]
    assert gpus_free == [0.0]


# A 96x64 picture in 6 tiles of 32 px (crops 64 px with a 16 px halo), a step of 12 tile passes.
TILED = {"size": 96, "tile": 32, "halo": 16, "jit_compile": False}


STEPS = 3
_started: list[TileWorkers] = []  # the module's tile workers, once started


@pytest.fixture(scope="module")
def tile_workers(two_nodes, weights):
    """A CPU worker on each node, for the module's tile tests (the cluster holds two at a time)."""
    with TileWorkers(Workers(count=2, gpus_per_worker=0), weights) as workers:
        _started.append(workers)
        yield workers


@pytest.fixture
def room(two_nodes):
    """The cluster's room, for a test that starts workers of its own: the module's stopped."""
    for workers in _started:
        workers.close()


@pytest.fixture(scope="module")
def one_process(weights):
    """The run of the tile tests in one process."""
    return _run(weights)


def test_on_a_worker_of_each_node_a_tiled_steps_losses_and_gradient_are_one_processs(tile_workers, weights):
    photo = load_image(CONTENT, 96)
    image = np.clip(photo + rng(0).normal(0.0, 0.1, photo.shape), 0.0, 1.0).astype(np.float32)
    options = Options(weights=weights, **TILED)
    here = TiledObjective(photo, load_image(STYLE, 96), options, tile=32, halo=16)
    spread = TiledObjective(photo, load_image(STYLE, 96), options, tile=32, halo=16, workers=tile_workers.runner)
    before = sum(tile_workers.stats.tiles.values())
    for shift in (0, 1):
        losses, gradient = losses_and_gradient(here, image, shift)
        losses_on_workers, gradient_on_workers = losses_and_gradient(spread, image, shift)
        for name, value in losses.items():
            within(f"on two nodes, shift {shift}: {name} loss against one process's, relative",
                   relative_difference(losses_on_workers[name], value), at_most=1e-5)  # fmt: skip
        within(f"on two nodes, shift {shift}: gradient against one process's, relative L2",
               relative_error(gradient_on_workers, gradient), at_most=1e-5)  # fmt: skip
    assert sum(tile_workers.stats.tiles.values()) - before == 2 * 2 * 6  # 2 steps of 2 passes of 6 tiles
    assert set(tile_workers.stats.tiles) == {node["NodeID"][:12] for node in ray.nodes()}


def _run(weights, cluster=None, **keywords):
    options = Options(weights=weights, steps=STEPS, optimizer="adam", **TILED)
    return stylize(CONTENT, STYLE, options, cluster=cluster, **keywords)


def test_a_few_steps_on_the_workers_make_one_processs_picture_and_the_report_says_where(
    tile_workers, one_process, weights
):
    spread = _run(weights, cluster=tile_workers)
    difference = np.abs(spread.pixels - one_process.pixels).max()
    within(f"{STEPS} Adam steps on two nodes against one process, largest pixel difference", difference,
           at_most=1e-4)  # fmt: skip
    workers = spread.report["workers"]
    # (Tiles sent again past a deadline are possible on a loaded machine, and change nothing.)
    assert workers["workers"] == 2 and workers["lost"] == 0
    assert sum(workers["tiles"].values()) >= STEPS * 2 * 6 and len(workers["tiles"]) == 2
    assert workers["bytes_moved"] > 0 and "workers" not in one_process.report


def test_a_worker_killed_in_a_step_costs_its_tiles_not_the_step_nor_the_picture(tile_workers, one_process, weights):
    victim, passes_done = next(iter(tile_workers.actors)), []

    def kill_in_the_second_step(size: int, done: int, passes: int) -> None:
        passes_done.append(done)
        if len(passes_done) == 12 + 3:  # a step is 12 tile passes: the second step's third
            ray.kill(victim, no_restart=True)

    spread = _run(weights, cluster=tile_workers, on_tile=kill_in_the_second_step)
    assert spread.report["workers"]["lost"] == 1 and spread.report["workers"]["resent"] >= 1
    assert sum(spread.report["steps_per_scale"]) == STEPS
    difference = np.abs(spread.pixels - one_process.pixels).max()
    within("a worker killed in a step: the picture against one process's, largest pixel difference", difference,
           at_most=1e-4)  # fmt: skip


def test_with_every_worker_lost_the_run_stops_in_one_line_with_its_checkpoint_and_goes_on_from_it(
    tile_workers, one_process, weights, tmp_path
):
    """(The command's side, a checkpoint beside the output and the same command going on from
    it: tests/unit/test_cli.py, on a stand-in run.)"""
    checkpoint, passes_done = tmp_path / "run.npz", []

    def lose_every_worker_in_the_second_step(size: int, done: int, passes: int) -> None:
        passes_done.append(done)
        if len(passes_done) == 12 + 3:
            for actor in list(tile_workers.actors):
                ray.kill(actor, no_restart=True)

    lost = rf"^every Ray worker was lost \(2 of 2\); the run so far is in {checkpoint}$"
    with pytest.raises(WorkersLost, match=lost):
        _run(weights, cluster=tile_workers, on_tile=lose_every_worker_in_the_second_step, checkpoint=str(checkpoint))
    again = _run(weights, resume=str(checkpoint))  # here: the checkpoint is the picture's, wherever it goes on
    assert sum(again.report["steps_per_scale"]) == STEPS
    within("every worker lost, then resumed: the picture against one process's, largest pixel difference",
           np.abs(again.pixels - one_process.pixels).max(), at_most=1e-4)  # fmt: skip


def test_by_default_a_tile_worker_takes_the_clusters_gpu(room, two_nodes, weights):
    with TileWorkers(Workers(count=1), weights) as workers:
        assert list(workers.actors.values()) == [two_nodes[:12]]
