"""One picture's tiles on Ray workers: a print's steps spread over a cluster's machines or GPUs.

A tiled step (:mod:`nst.core.tiles`) is two rounds of independent tile passes with a small
reduction between them. This process, the driver, keeps the picture and the optimizer; each
round it puts the picture in Ray's object store once, hands the workers a few tiles at a time,
and yields each tile's result as it comes back, for the objective to add in tile order (the sums
in float64), so that the picture is the one a single process makes.

The workers are Ray actors that load VGG19 once and compile each crop size once; each keeps its
tiles' activations between a step's two rounds where they fit in its share of its node's memory.
:mod:`nst.run.dispatch` hands them the tiles. With every worker lost, the step fails with
:class:`WorkersLost`, and the run keeps its checkpoint.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from typing import Any

import numpy as np

from nst.core import backend
from nst.errors import NstError
from nst.media.images import NstWarning
from nst.media.tiling import Tiling
from nst.options import Options
from nst.run.cluster import WorkerProcess, Workers, actor_class, connect, first_line, import_ray, stored_weights
from nst.run.dispatch import Dispatch, TileStats, nbytes
from nst.run.memory import kept_activations_mb

# How long the first worker has to start (Ray's runtime, TensorFlow), and the others after it.
START_TIMEOUT_S = 300.0
LATE_START_S = 60.0


class TileWorker(WorkerProcess):
    """A Ray actor that runs tile passes (:class:`nst.core.tile_passes.TilePasses`), compiled once for
    each set of settings and crop size and kept."""

    def __init__(self, weights: bytes | None, threads: int, weights_name: str = "vgg19.h5") -> None:
        super().__init__(weights, threads, weights_name)
        self.passes: dict[tuple, Any] = {}
        self.share_mb = 0.0  # of its node's memory: what it may keep of a step's activations is within it

    def use_memory(self, share_mb: float) -> None:
        self.share_mb = share_mb

    def _passes(self, options: Options):
        from nst.core.tile_passes import TilePasses

        if self.weights is not None:
            options = dataclasses.replace(options, weights=str(self.weights))
        key = (options.content_layers, options.style_layers, options.vgg_normalization, options.jit_compile)
        if key not in self.passes:
            self.passes[key] = TilePasses(options)
        return self.passes[key]

    def forward(self, options: Options, image, tiling: Tiling, targets: tuple, keep, indices: list[int]) -> tuple:
        started = time.perf_counter()
        passes = self._passes(options)
        passes.keep_mb = kept_activations_mb(tiling.crop, image.shape, self.share_mb)
        results = [(index, passes.forward(image, tiling, targets, index, keep)) for index in indices]
        return results, time.perf_counter() - started

    def backward(
        self, options: Options, image, tiling: Tiling, targets: tuple, sums_gradient: dict, keep, indices: list[int]
    ) -> tuple:
        started = time.perf_counter()
        passes = self._passes(options)
        kept = passes.pass_counts["kept"]
        results = [(index, passes.backward(image, tiling, targets, sums_gradient, index, keep)) for index in indices]
        return results, time.perf_counter() - started, passes.pass_counts["kept"] - kept


class TileWorkers:
    """Ray actors that run the tile passes of a picture's tiled sizes: ``workers.count`` of them
    (one node's CPUs each, or a GPU each: :class:`nst.run.cluster.Workers`). Use as a context
    manager, or :meth:`close`; :meth:`runner` is what :class:`nst.core.tiles.TiledObjective` takes."""

    def __init__(self, workers: Workers, weights: str) -> None:
        self.ray = ray = import_ray("tiles on workers")
        self.started_ray = connect(ray, workers.address)
        self.stats = TileStats()
        self.actors: dict[Any, str] = {}  # a live worker -> its node
        self.dispatch = Dispatch(ray, self.actors, self.stats)
        self._targets: list[tuple[Any, Any]] = []  # (targets, their object in the store), the latest few
        try:
            self._start(workers.placed(ray.cluster_resources()), weights)
        except BaseException:
            self.close()
            raise

    def _start(self, workers: Workers, weights: str) -> None:
        """Starts the workers and waits for them: for the first up to :data:`START_TIMEOUT_S`, then
        :data:`LATE_START_S` for the others (a worker with no room on a busy cluster is left out).
        No more than the cluster holds: a worker that could never be placed is not waited for."""
        ray = self.ray
        count = workers.count
        if count > (holds := workers.holds(ray.cluster_resources())):
            warnings.warn(f"{count} Ray workers asked for and the cluster holds {holds}: {holds} start",
                          NstWarning, stacklevel=3)  # fmt: skip
            count = holds
        threads = max(1, round(workers.cpus_per_worker))
        stored, name = stored_weights(ray, weights), weights.rsplit("/", 1)[-1]
        actors = [actor_class(ray, TileWorker, workers).remote(stored, threads, name) for _ in range(count)]
        ready = {actor.ready.remote(): actor for actor in actors}
        done, waiting = ray.wait(list(ready), num_returns=1, timeout=START_TIMEOUT_S)
        if waiting:
            more, waiting = ray.wait(waiting, num_returns=len(waiting), timeout=LATE_START_S if done else 0)
            done += more
        failure = f"none started in {START_TIMEOUT_S:.0f} s"
        for reference in done:
            try:
                self.actors[ready[reference]] = ray.get(reference)
            except ray.exceptions.RayError as error:  # e.g. nst or TensorFlow missing on its node
                failure = first_line(error)
        for reference in waiting:  # no room for it on the cluster now: the others do the work
            ray.kill(ready[reference])
        if not self.actors:
            raise NstError(f"no tile worker could start on Ray ({failure})")
        self.stats.workers = len(self.actors)
        self.share_memory()

    def share_memory(self) -> None:
        """Tells each worker its share of its node's memory (Ray's ``memory`` resource, split
        among the node's workers): the activations it keeps between a step's passes stay within it."""
        ray = self.ray
        memory = {node["NodeID"][:12]: node["Resources"].get("memory", 0.0) / 2**20 for node in ray.nodes()
                  if node.get("Alive")}  # fmt: skip
        on_node = Counter(self.actors.values())
        ray.get([actor.use_memory.remote(memory.get(node, 0.0) / on_node[node]) for actor, node in self.actors.items()])

    def __enter__(self) -> TileWorkers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors.clear()
        if self.started_ray:
            self.ray.shutdown()
            self.started_ray = False

    def runner(self, options: Options) -> _Runner:
        """The tile passes of an objective with ``options``, on these workers."""
        return _Runner(self, options)

    def stored_targets(self, targets: tuple) -> Any:
        """A size's targets in the object store, put once: the objective keeps the same tuple."""
        for kept, stored in self._targets:
            if kept is targets:
                return stored
        stored = self.put(targets)
        self._targets = [*self._targets[-3:], (targets, stored)]  # the photo's both ways, a painting's
        return stored

    def put(self, value: Any) -> Any:
        """``value`` in the object store, its bytes counted once for each node that will read it
        (top-level arguments of a task: Ray hands the workers the value)."""
        self.stats.bytes_moved += nbytes(value) * len(set(self.actors.values()))
        return self.ray.put(value)

    def run(self, method: str, count: int, options: Options, *arguments: Any, owners=None) -> Iterator[tuple[int, Any]]:
        """Runs ``method`` of the workers over tiles 0 to ``count`` - 1 (:class:`Dispatch`)."""
        return self.dispatch.run(method, count, options, *arguments, owners=owners)


class _Runner:
    """A :class:`nst.core.tile_passes.TileRunner` on the workers, for one objective's ``options``."""

    def __init__(self, workers: TileWorkers, options: Options) -> None:
        self.workers, self.options = workers, options
        self._picture: tuple[Any, Any] = (None, None)  # the picture last put, and its object in the store

    def forward(self, image: np.ndarray, tiling: Tiling, targets: tuple, keep=None) -> Iterator[tuple[int, dict]]:
        arguments = (self._picture_stored(image), tiling, self.workers.stored_targets(targets), keep)
        yield from self.workers.run("forward", len(tiling), self.options, *arguments)

    def backward(
        self, image: np.ndarray, tiling: Tiling, targets: tuple, sums_gradient: dict, keep=None
    ) -> Iterator[tuple[int, np.ndarray]]:
        """The tiles' gradients, each tile sent first to the worker that kept its activations."""
        stored = (self._picture_stored(image), tiling, self.workers.stored_targets(targets))
        arguments = (*stored, self.workers.put(sums_gradient), keep)
        # A tile to the worker that kept its activations, where the backend keeps them (not TensorFlow):
        # elsewhere any worker is as good, and the tiles go to whichever is free.
        keeps = keep is not None and backend.keeps_activations()
        owners = self.workers.dispatch.ran.get("forward") if keeps else None
        yield from self.workers.run("backward", len(tiling), self.options, *arguments, owners=owners)

    def _picture_stored(self, image: np.ndarray) -> Any:
        """The picture in the store: put once a step, its two rounds see the same array."""
        if self._picture[0] is not image:
            self._picture = (image, self.workers.put(image))
        return self._picture[1]
