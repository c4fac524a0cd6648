"""nst batch on two Ray nodes (started on this machine by ray.cluster_utils.Cluster), the second
declaring a GPU it has not (Ray's fake resources): CPU workers run items on both nodes, equal to
the single command's; without being told, a worker takes the GPU and runs its item (on the CPU
there is). The placement's plan: tests/unit/test_batch.py."""

import numpy as np
import pytest
import ray
from PIL import Image

from nst import Options, stylize
from nst.apps import batch
from tests.helpers import CONTENT, EXAMPLES, STYLE, ray_cluster, within

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
    summary = batch.stylize_many(photos, paintings, tmp_path / "out", options, workers=cpu_workers)
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
