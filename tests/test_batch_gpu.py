"""nst batch where the cluster has GPUs, without being told: a worker takes the GPU by default and
runs its item. The GPU is one Ray is told a node has (its fake resources): the worker holds it, and
runs its item on the CPU there is (the placement's plan: tests/unit/test_batch.py)."""

import pytest
import ray

from nst import Options
from nst.apps import batch
from tests.helpers import CONTENT, STYLE, ray_cluster

SETTINGS = {"size": 32, "steps": 3, "jit_compile": False}


@pytest.fixture
def node_with_a_gpu():
    """A cluster of two nodes of 1 CPU each, the second declaring a GPU; its node ID."""
    with ray_cluster(num_cpus=1, num_gpus=1):
        [gpu_node] = [node["NodeID"] for node in ray.nodes() if node["Resources"].get("GPU")]
        yield gpu_node


@pytest.mark.e2e
@pytest.mark.ray
def test_by_default_a_worker_takes_the_clusters_gpu_and_runs_the_item(node_with_a_gpu, weights, tmp_path):
    gpus_free = []

    def watch(progress: batch.BatchProgress) -> None:
        if progress.outcome is not None:  # the worker is alive: what it holds is not free
            gpus_free.append(ray.available_resources().get("GPU", 0.0))

    options = Options(weights=weights, **SETTINGS)
    summary = batch.stylize_many([CONTENT], [STYLE], tmp_path, options, callback=watch)
    assert [outcome.status for outcome in summary.items] == ["done"] and summary.workers == 1
    assert summary.items[0].node == node_with_a_gpu[:12]
    assert gpus_free == [0.0]
