"""nst batch's workers, planned from what a cluster has: one to a GPU where it has GPUs, by the CPUs
where not, the flags as overrides, and the memory each may use (the runs on Ray: tests/test_batch*.py)."""

from nst.apps import batch


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
