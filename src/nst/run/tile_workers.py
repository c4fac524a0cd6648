"""One picture's tiles on Ray workers: a print's steps spread over a cluster's machines or GPUs.

A tiled step (:mod:`nst.core.tiles`) is two rounds of independent tile passes with a small
reduction between them. This process, the driver, keeps the picture and the optimizer; each
round it puts the picture in Ray's object store once, hands the workers a few tiles at a time,
and yields each tile's result as it comes back, for the objective to add in tile order (the sums
in float64), so that the picture is the one a single process makes.

The workers are Ray actors that load VGG19 once and compile each crop size once. A worker gets
tiles in proportion to its measured speed, several at a time; what a dead worker held, or what a
slow one has held past its deadline, is sent again to a live one (a tile pass depends only on the
picture, so running one twice is harmless: the first answer counts). With every worker lost, the
step fails with :class:`WorkersLost`, and the run keeps its checkpoint.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nst.errors import NstError, WorkersLost
from nst.media.images import NstWarning
from nst.media.tiling import Tiling
from nst.options import Options
from nst.run.cluster import WorkerProcess, Workers, actor_class, connect, first_line, import_ray, stored_weights
from nst.run.memory import kept_activations_mb

# A task is sent again to an idle worker once it has taken this many times what its worker's
# measured speed says it should (or, before any measure, this many times the slowest tile seen).
DEADLINE_FACTOR = 3.0
# And never sooner than this: small tiles take milliseconds, which Ray's own jitter can triple.
LEAST_DEADLINE_S = 5.0
# Before any tile is measured: how long a task may take before its tiles are sent again.
FIRST_DEADLINE_S = 600.0
# How long the first worker has to start (Ray's runtime, TensorFlow), and the others after it.
START_TIMEOUT_S = 300.0
LATE_START_S = 60.0


@dataclass
class TileStats:
    """What the workers did: tiles done on each (by its node), tiles sent again (a dead worker's,
    or past a deadline), workers lost, backward passes that used the tile's kept activations
    (no forward pass again), bytes moved through the object store, and the seconds the driver
    waited on the workers (a step's time less these is the driver's own)."""

    workers: int = 0
    tiles: Counter = field(default_factory=Counter)
    resent: int = 0
    lost: int = 0
    kept: int = 0
    bytes_moved: int = 0
    waited_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"workers": self.workers, "tiles": dict(self.tiles), "resent": self.resent, "lost": self.lost,
                "kept": self.kept, "bytes_moved": self.bytes_moved, "waited_s": round(self.waited_s, 3)}  # fmt: skip


class TileWorker(WorkerProcess):
    """A Ray actor that runs tile passes (:class:`nst.core.tiles.TilePasses`), compiled once for
    each set of settings and crop size and kept."""

    def __init__(self, weights: bytes | None, threads: int, weights_name: str = "vgg19.h5") -> None:
        super().__init__(weights, threads, weights_name)
        self.passes: dict[tuple, Any] = {}
        self.share_mb = 0.0  # of its node's memory: what it may keep of a step's activations is within it

    def use_memory(self, share_mb: float) -> None:
        self.share_mb = share_mb

    def _passes(self, options: Options):
        from nst.core.tiles import TilePasses

        if self.weights is not None:
            options = dataclasses.replace(options, weights=str(self.weights))
        key = (options.content_layers, options.style_layers, options.vgg_normalization, options.jit_compile)
        if key not in self.passes:
            self.passes[key] = TilePasses(options)
        return self.passes[key]

    def forward(self, options: Options, image, tiling: Tiling, targets: tuple, keep, indices: list[int]) -> tuple:
        started = time.perf_counter()
        passes = self._passes(options)
        passes.keep_mb = kept_activations_mb(options, tiling.crop, image.shape, self.share_mb)
        results = [(index, passes.forward(image, tiling, targets, index, keep)) for index in indices]
        return results, time.perf_counter() - started

    def backward(
        self, options: Options, image, tiling: Tiling, targets: tuple, sums_gradient: dict, keep, indices: list[int]
    ) -> tuple:
        started = time.perf_counter()
        passes = self._passes(options)
        kept = passes.passes["kept"]
        results = [(index, passes.backward(image, tiling, targets, sums_gradient, index, keep)) for index in indices]
        return results, time.perf_counter() - started, passes.passes["kept"] - kept


class Dispatch:
    """Hands out tiles to ``actors`` (a live worker -> its node; a lost one is taken out) and
    gathers their results: each worker a few tiles at a time, in proportion to its measured
    speed; a dead worker's tiles to the others; a late task's again to an idle worker. ``ray`` is
    the module (or a stand-in: tests/unit/test_tile_workers.py), ``clock`` its seconds."""

    def __init__(self, ray: Any, actors: dict[Any, str], stats: TileStats, clock=time.perf_counter) -> None:
        self.ray, self.actors, self.stats, self.clock = ray, actors, stats, clock
        # Each method's measured seconds a tile on each worker: a backward pass costs about three
        # forward ones, so a worker's forward speed would make its backward tasks look late.
        self.speeds: dict[str, dict[Any, float]] = {}
        self.speed: dict[Any, float] = {}  # the running method's
        self.ran: dict[str, dict[int, Any]] = {}  # each method's last run: tile -> the worker that answered

    def run(
        self, method: str, count: int, options: Options, *arguments: Any, owners: dict[int, Any] | None = None
    ) -> Iterator[tuple[int, Any]]:
        """Runs ``method`` of the workers over tiles 0 to ``count`` - 1 and yields ``(index,
        result)`` as each comes back, each index once. ``owners``: the worker each tile should go
        to where it is free (the one that kept the tile's activations); :attr:`ran` says who
        answered for each tile."""
        ray, stats = self.ray, self.stats
        self.speed = self.speeds.setdefault(method, {})
        ran = self.ran[method] = {}
        queue, done = deque(range(count)), set()
        busy: dict[Any, tuple[Any, list[int], float]] = {}  # an answer to come -> its worker, tiles, when sent
        idle = deque(self.actors)
        resent: set = set()  # the late tasks whose tiles went out again: once each
        while len(done) < count:
            while idle and (queue or self._overdue(busy, done, resent)):
                actor = idle.popleft()
                if queue:
                    indices = self._take(actor, queue, owners or {})
                else:  # nothing left to hand out: a late task's tiles again, on this idle worker
                    late = self._overdue(busy, done, resent)[0]
                    resent.add(late)
                    indices = [index for index in busy[late][1] if index not in done]
                    stats.resent += len(indices)
                task = getattr(actor, method).remote(options, *arguments, indices)
                busy[task] = (actor, indices, self.clock())
            if not busy:
                raise WorkersLost(f"every Ray worker was lost ({stats.lost} of {stats.workers})")
            waiting = self.clock()
            ready, _ = ray.wait(list(busy), num_returns=1, timeout=self._next_deadline(busy, resent))
            stats.waited_s += self.clock() - waiting
            if not ready:  # a deadline passed: the loop above sends that task's tiles again
                continue
            actor, indices, _ = busy.pop(ready[0])
            try:
                results, seconds, *kept = ray.get(ready[0])
            except ray.exceptions.RayActorError:  # the worker died (its process killed, its node lost)
                self._lost(actor)
                again = [index for index in indices if index not in done]
                queue.extendleft(reversed(again))
                stats.resent += len(again)
                continue
            except ray.exceptions.RayTaskError as error:  # the pass itself failed: so would it anywhere
                raise NstError(f"a tile worker failed: {first_line(getattr(error, 'cause', None) or error)}") from None
            if actor in self.actors:
                idle.append(actor)
                self.speed[actor] = seconds / max(1, len(indices))
            stats.kept += sum(kept)
            for index, result in results:
                if index not in done:
                    done.add(index)
                    ran[index] = actor
                    stats.tiles[self.actors.get(actor, "lost")] += 1
                    stats.bytes_moved += _nbytes(result)
                    yield index, result

    def _take(self, actor: Any, queue: deque, owners: dict[int, Any]) -> list[int]:
        """The tiles ``actor`` gets next: its share of the queue, its own tiles first (``owners``);
        with none of its own left, the others' from the back of the queue (theirs come from the front)."""
        share = min(len(queue), self._share(actor, len(queue)))
        own = [index for index in queue if owners.get(index) is actor][:share]
        if own or not owners:
            for index in own:
                queue.remove(index)
            return own or [queue.popleft() for _ in range(share)]
        return [queue.pop() for _ in range(share)][::-1]

    def _share(self, actor: Any, left: int) -> int:
        """How many tiles ``actor`` gets of the ``left`` ones: half its share by measured speed
        (all workers equal until measured), so that the last tiles go out in small numbers."""
        rates = {worker: 1 / self.speed.get(worker, 1.0) for worker in self.actors}
        if len(self.speed) < len(self.actors):  # not every worker measured yet: all alike
            rates = dict.fromkeys(self.actors, 1.0)
        return max(1, int(left * rates[actor] / sum(rates.values()) / 2))

    def _deadline(self, actor: Any, indices: list[int], sent: float) -> float:
        slowest = max(self.speed.values(), default=None)
        seconds = self.speed.get(actor, slowest)
        if seconds is None:
            return sent + FIRST_DEADLINE_S
        return sent + max(LEAST_DEADLINE_S, DEADLINE_FACTOR * seconds * len(indices))

    def _overdue(self, busy: dict, done: set, resent: set) -> list[Any]:
        """The tasks past their deadline, with tiles not yet done, not yet sent again."""
        now = self.clock()
        return [
            task
            for task, (actor, indices, sent) in busy.items()
            if task not in resent and now > self._deadline(actor, indices, sent) and not done.issuperset(indices)
        ]

    def _next_deadline(self, busy: dict, resent: set) -> float | None:
        """Seconds to the next deadline of a task not yet sent again (None: none to wait for)."""
        deadlines = [self._deadline(*busy[task]) for task in busy if task not in resent]
        return max(0.01, min(deadlines) - self.clock()) if deadlines else None

    def _lost(self, actor: Any) -> None:
        if self.actors.pop(actor, None) is not None:
            self.stats.lost += 1
        for speed in self.speeds.values():
            speed.pop(actor, None)
        self.ray.kill(actor)


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
        self._share_memory()

    def _share_memory(self) -> None:
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
        self.stats.bytes_moved += _nbytes(value) * len(set(self.actors.values()))
        return self.ray.put(value)

    def run(self, method: str, count: int, options: Options, *arguments: Any, owners=None) -> Iterator[tuple[int, Any]]:
        """Runs ``method`` of the workers over tiles 0 to ``count`` - 1 (:class:`Dispatch`)."""
        return self.dispatch.run(method, count, options, *arguments, owners=owners)


class _Runner:
    """A :class:`nst.core.tiles.TileRunner` on the workers, for one objective's ``options``."""

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
        owners = self.workers.dispatch.ran.get("forward") if keep is not None else None
        yield from self.workers.run("backward", len(tiling), self.options, *arguments, owners=owners)

    def _picture_stored(self, image: np.ndarray) -> Any:
        """The picture in the store: put once a step, its two rounds see the same array."""
        if self._picture[0] is not image:
            self._picture = (image, self.workers.put(image))
        return self._picture[1]


def _nbytes(nest: Any) -> int:
    """The bytes of the arrays in a nest."""
    if isinstance(nest, np.ndarray):
        return nest.nbytes
    if isinstance(nest, dict):
        return sum(_nbytes(value) for value in nest.values())
    if isinstance(nest, (list, tuple)):
        return sum(_nbytes(value) for value in nest)
    return 0
