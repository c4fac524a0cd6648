"""Ray's workers (a batch's, a print's tiles'), planned from what a cluster has: one to a GPU where
it has GPUs, by the CPUs where not, the flags as overrides, and the memory each may use (the runs
on Ray: tests/test_batch.py, tests/test_cluster.py)."""

import os

import pytest

from nst.errors import NstError
from nst.run.cluster import NO_IDLE_WORKERS, Workers, connect


def test_workers_go_one_to_a_gpu_where_the_cluster_has_gpus_and_by_the_cpus_where_not():
    gpu_node, cpu_node = {"CPU": 16.0, "GPU": 2.0, "memory": 1e11}, {"CPU": 4.0, "memory": 16 * 2**30}
    # A GPU worker plans in its GPU's memory; CPU workers share the cluster's equally (MB each).
    assert Workers().placed(gpu_node) == Workers(count=2, gpus_per_worker=1.0)
    assert Workers().placed(cpu_node) == Workers(count=4, gpus_per_worker=0.0, memory_mb=4096)
    assert Workers(cpus_per_worker=2).placed(cpu_node) == Workers(None, 2, 2, 0, 8192)
    assert Workers(count=3).placed(gpu_node) == Workers(count=3, gpus_per_worker=1.0)
    # Told otherwise: CPU workers on a GPU cluster, two workers sharing each GPU, the memory each has.
    assert Workers(gpus_per_worker=0).placed(gpu_node) == Workers(None, 16, 1, 0, 1e11 / 2**20 / 16)
    assert Workers(gpus_per_worker=0.5).placed(gpu_node) == Workers(count=4, gpus_per_worker=0.5)
    assert Workers(memory_mb=1500).placed(cpu_node).memory_mb == 1500
    # At once: two GPU workers on a cluster of one GPU are one; CPU workers by the CPUs.
    assert Workers(count=2, gpus_per_worker=1).holds({"CPU": 2.0, "GPU": 1.0}) == 1
    assert Workers(count=2, gpus_per_worker=0).holds({"CPU": 2.0, "GPU": 1.0}) == 2


def test_the_api_takes_a_number_of_workers_or_an_address_and_one_local_worker_is_no_ray():
    assert Workers.of(None) is None
    assert Workers.of(3) == Workers(count=3) and not Workers.of(3).local
    assert Workers.of("ray://head:10001") == Workers(address="ray://head:10001")
    assert Workers.of(1).local and not Workers(address="auto", count=1).local
    with pytest.raises(NstError, match="a number of workers or a Ray address"):
        Workers.of(True)
    with pytest.raises(NstError, match="workers must be 1 or more"):
        Workers.of(0)


class _Ray:
    """What connect() calls of Ray: the environment each ray.init() saw."""

    def __init__(self) -> None:
        self.seen: list[str | None] = []

    def is_initialized(self) -> bool:
        return False

    def init(self, **settings) -> None:
        self.seen.append(os.environ.get(NO_IDLE_WORKERS[0]))


def test_a_ray_started_for_nst_starts_no_idle_workers_unless_the_user_says(monkeypatch):
    name, value = NO_IDLE_WORKERS
    # An environment of the test's own: what connect() sets there is gone after it.
    monkeypatch.setattr(os, "environ", {key: setting for key, setting in os.environ.items() if key != name})
    ray = _Ray()
    assert connect(ray, None) and connect(ray, "auto")
    assert ray.seen == [value] * 2
    os.environ[name] = "1"
    connect(ray, None)
    assert ray.seen[-1] == "1"
