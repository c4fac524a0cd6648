"""nst batch where the cluster has GPUs, without being told: a worker on each GPU by default, CPU
workers where the cluster has none, the flag as an override. The GPU is one Ray is told a node
has (its fake resources): the worker holds it, and runs its item on the CPU there is."""

import pytest
import ray

from nst import Options
from nst.apps import batch
from tests.helpers import CONTENT, STYLE, ray_cluster

SETTINGS = {"size": 32, "steps": 3, "jit_compile": False}


@pytest.mark.unit
def test_workers_go_one_to_a_gpu_where_the_cluster_has_gpus_and_by_the_cpus_where_not():
    gpu_node, cpu_node = {"CPU": 16.0, "GPU": 2.0, "memory": 1e11}, {"CPU": 4.0, "memory": 16 * 2**30}
    # A GPU worker plans in its GPU's memory; CPU workers share the cluster's equally (MB each).
    assert batch.Workers().placed(gpu_node) == batch.Workers(count=2, gpus_per_worker=1.0)
    assert batch.Workers().placed(cpu_node) == batch.Workers(count=4, gpus_per_worker=0.0, memory_mb=4096)
    assert batch.Workers(cpus_per_worker=2).placed(cpu_node) == batch.Workers(None, 2, 2, 0, 8192)
    assert batch.Workers(count=3).placed(gpu_node) == batch.Workers(count=3, gpus_per_worker=1.0)
    # Told otherwise: CPU workers on a GPU cluster, two workers sharing each GPU, the memory each has.
    assert batch.Workers(gpus_per_worker=0).placed(gpu_node) == batch.Workers(None, 16, 1, 0, 1e11 / 2**20 / 16)
    assert batch.Workers(gpus_per_worker=0.5).placed(gpu_node) == batch.Workers(count=4, gpus_per_worker=0.5)
    assert batch.Workers(memory_mb=1500).placed(cpu_node).memory_mb == 1500


@pytest.fixture
def node_with_a_gpu():
    """A cluster of two nodes of 1 CPU each, the second declaring a GPU; its node ID."""
    with ray_cluster(num_cpus=1, num_gpus=1):
        [gpu_node] = [node["NodeID"] for node in ray.nodes() if node["Resources"].get("GPU")]
        yield gpu_node


@pytest.mark.e2e
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
