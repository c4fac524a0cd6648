"""Ray, for work that outgrows one process: a batch's pictures (:mod:`nst.run.batch`) and a
print's tiles (:mod:`nst.run.tile_workers`). A local instance by default (nothing to set up), or
a cluster (``address="auto"`` or ``"ray://HOST:10001"``). Ray places the workers, moves the
bytes and notices a worker that dies; it is imported only when work runs on it (the ``cluster``
extra)."""

from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nst.errors import NstError
from nst.options import keras_backend
from nst.run.memory import MEMORY_VARIABLE


@dataclass(frozen=True)
class Workers:
    """Where work runs. ``address``: None starts a local Ray instance (or uses the one this
    process already joined), ``"auto"`` or ``"ray://HOST:10001"`` joins a cluster. ``count``:
    None is as many as the cluster's CPUs (or GPUs) hold. ``gpus_per_worker``: None is one GPU
    each on a cluster that has GPUs, none on one that has not (:meth:`placed`). ``memory_mb``: what
    each worker's pictures plan in, unless ``--max-memory`` says (None: a CPU worker gets an equal
    share of the cluster's memory, so that workers side by side never plan in the same memory
    twice; a GPU worker plans in its GPU's). A picture too large for it runs in tiles."""

    address: str | None = None
    count: int | None = None
    cpus_per_worker: float = 1.0
    gpus_per_worker: float | None = None
    memory_mb: float | None = None

    def __post_init__(self) -> None:
        if self.count is not None and self.count < 1:
            raise NstError(f"workers must be 1 or more, got {self.count}")
        if not self.cpus_per_worker > 0 or (self.gpus_per_worker or 0) < 0:
            raise NstError("cpus per worker must be > 0 and gpus per worker >= 0")

    @classmethod
    def of(cls, cluster: Workers | int | str | None) -> Workers | None:
        """``cluster`` as workers: a number of them on a local Ray instance, or a cluster's address."""
        if cluster is None or isinstance(cluster, Workers):
            return cluster
        if isinstance(cluster, bool) or not isinstance(cluster, (int, str)):
            raise NstError(f"cluster must be a number of workers or a Ray address, got {cluster!r}")
        return cls(count=cluster) if isinstance(cluster, int) else cls(address=cluster)

    @property
    def local(self) -> bool:
        """One worker and no cluster: the work runs in this process, without Ray."""
        return self.address is None and self.count == 1

    def holds(self, resources: dict[str, float]) -> int:
        """How many of these workers a cluster with ``resources`` (Ray's totals) holds at once."""
        fits = resources.get("CPU", 0) // self.cpus_per_worker
        if self.gpus_per_worker:
            fits = min(fits, resources.get("GPU", 0) // self.gpus_per_worker)
        return int(fits)

    def placed(self, resources: dict[str, float]) -> Workers:
        """These workers on a cluster with ``resources`` (Ray's totals): unless told, a worker on
        each GPU where the cluster has GPUs, and as many as its CPUs hold where it has none.

        Not CPU workers beside GPU ones, on a cluster that has both: a picture takes minutes on
        a CPU and seconds on a GPU, and the batch would wait for the CPU's at its end."""
        gpus = self.gpus_per_worker
        if gpus is None:
            gpus = 1.0 if resources.get("GPU", 0) >= 1 else 0.0
        count = self.count
        if count is None:
            count = max(1, dataclasses.replace(self, gpus_per_worker=gpus).holds(resources))
        memory_mb = self.memory_mb
        if memory_mb is None and not gpus and resources.get("memory"):  # Ray's memory resource, in bytes
            memory_mb = resources["memory"] / 2**20 / count
        return dataclasses.replace(self, count=count, gpus_per_worker=gpus, memory_mb=memory_mb)


def import_ray(what: str):
    """Ray, or a one-line error that says how to get it: ``what`` (plural) needs it."""
    try:
        import ray
    except ImportError:
        raise NstError(f"{what} need Ray: pip install 'nst[cluster]'") from None
    return ray


# Ray starts a Python worker per CPU when the first driver joins a node it started, for the tasks
# to come. nst runs none: its workers are actors, each started in a process of its own, and those
# idle ones are stopped as the actors take the CPUs (1 s of CPU and a Ray import each, wasted, on
# every core, beside the workers starting TensorFlow). A user's own setting of it is kept.
NO_IDLE_WORKERS = ("RAY_prestart_worker_first_driver", "0")


def no_idle_workers() -> None:
    """A Ray that this process starts next starts no idle workers ahead of time (:data:`NO_IDLE_WORKERS`;
    its processes read it from the environment). Nothing changes on a cluster already running."""
    os.environ.setdefault(*NO_IDLE_WORKERS)


def connect(ray, address: str | None) -> bool:
    """Joins the cluster at ``address``, or starts a quiet local instance; True if it started one."""
    if ray.is_initialized():
        return False
    quiet = {"logging_level": logging.ERROR, "log_to_driver": False}
    if address is not None and address.startswith("ray://"):
        ray.init(address=address, **quiet)  # Ray Client: the cluster's own settings apply
        return True
    no_idle_workers()
    try:
        ray.init(address=address, include_dashboard=False, **quiet)
    except ConnectionError as error:
        raise NstError(f"no Ray cluster at {address} ({first_line(error)})") from None
    return True


def actor_class(ray, worker: type, workers: Workers) -> Any:
    """``worker`` as a Ray actor with ``workers``' resources, spread over the nodes, with the
    driver's Keras backend, and not restarted by Ray (the driver notices a death and acts)."""
    environment = {"KERAS_BACKEND": keras_backend()}  # the driver's, everywhere
    if 0 < workers.gpus_per_worker < 1:  # workers that share a GPU: none may take all its memory at the start
        environment.update(TF_FORCE_GPU_ALLOW_GROWTH="true", XLA_PYTHON_CLIENT_PREALLOCATE="false")
    if workers.memory_mb is not None:  # what its pictures plan in: the worker's, not a setting of the picture
        environment[MEMORY_VARIABLE] = f"{workers.memory_mb:.0f}"
    return ray.remote(worker).options(
        num_cpus=workers.cpus_per_worker, num_gpus=workers.gpus_per_worker, scheduling_strategy="SPREAD",
        max_restarts=0, runtime_env={"env_vars": environment},
    )  # fmt: skip


def stored_weights(ray, weights: str) -> Any:
    """The VGG19 weights file in Ray's object store (None for Keras's download): once, whatever
    the number of workers, and no copy on the nodes needed."""
    try:
        return None if weights == "imagenet" else ray.put(Path(weights).read_bytes())
    except OSError as error:
        raise NstError(f"VGG19 weights file {weights}: {error.strerror}") from None


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


class WorkerProcess:
    """What a Ray actor of nst does first: keep to the CPUs Ray gave it, and put the driver's
    weights file on its node's disk, for Keras to read (:attr:`weights`; None: Keras's download)."""

    def __init__(self, weights: bytes | None, threads: int, weights_name: str = "vgg19.h5") -> None:
        from nst.core import backend  # TensorFlow starts without its notices (nst.core)

        # Ray gives the worker `threads` CPUs: the backend would otherwise use every core of the node.
        backend.limit_threads(threads)
        self.folder = tempfile.TemporaryDirectory(prefix="nst-worker-")
        self.weights = None
        if weights is not None:
            # Under the file's own name: Keras reads "x.weights.h5" (its own format) and "x.h5" differently.
            self.weights = Path(self.folder.name) / weights_name
            self.weights.write_bytes(weights)

    def ready(self) -> str:
        """Answers once the worker has started (its node's ID): then it is given work."""
        import ray

        return ray.get_runtime_context().get_node_id()[:12]
