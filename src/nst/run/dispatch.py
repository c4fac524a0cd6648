"""How a step's tiles are handed to Ray's workers and their results gathered (:class:`Dispatch`):
each worker a few tiles at a time, in proportion to its measured speed; a tile to the worker that
kept its activations where it can; a dead worker's tiles to the others; a late task's again to an
idle worker (a tile pass depends only on the picture: the first answer counts)."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nst.errors import NstError, WorkersLost
from nst.options import Options
from nst.run.cluster import first_line

# A task is sent again to an idle worker once it has taken this many times what its worker's
# measured speed says it should (or, before any measure, this many times the slowest tile seen).
DEADLINE_FACTOR = 3.0
# And never sooner than this: small tiles take milliseconds, which Ray's own jitter can triple.
LEAST_DEADLINE_S = 5.0
# Before any tile is measured: how long a task may take before its tiles are sent again.
FIRST_DEADLINE_S = 600.0


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
                    stats.bytes_moved += nbytes(result)
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


def nbytes(nest: Any) -> int:
    """The bytes of the arrays in a nest."""
    if isinstance(nest, np.ndarray):
        return nest.nbytes
    if isinstance(nest, dict):
        return sum(nbytes(value) for value in nest.values())
    if isinstance(nest, (list, tuple)):
        return sum(nbytes(value) for value in nest)
    return 0
