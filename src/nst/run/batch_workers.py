"""A batch's workers on Ray (:func:`nst.stylize_many`): the pool of Ray actors that the driver hands
one item at a time, each to the worker that has waited longest, a dead worker replaced and its item
tried again; and the worker itself, which loads VGG19 once and turns an item's bytes into the PNG
bytes and report the single command would write. Loaded when a batch runs (:mod:`nst.run.batch`)."""

from __future__ import annotations

import dataclasses
import io
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps

from nst.errors import NstError
from nst.options import Options
from nst.run.batch import DONE, FAILED, Item, Outcome
from nst.run.cluster import WorkerProcess, Workers, actor_class, first_line, stored_weights
from nst.run.loading import load_run

# A worker that dies (killed process, lost node) is replaced, and its item tried again on the
# next free worker, up to this many times: an item that kills every worker it meets must not
# stop the batch.
RETRIES = 2


@dataclass
class _Made:
    """What a worker sends back for a finished item."""

    png: bytes  # with the settings in its metadata, as the single command writes it
    report: dict[str, Any]


class WorkerPool:
    """Ray actors that take one item at a time, each given to the worker that has waited
    longest (the idea of ``ray.util.ActorPool``, which cannot say which item a dead worker held).
    Ray places the workers, moves the bytes and notices a worker that dies."""

    def __init__(self, ray, workers: Workers, weights: str, count: int) -> None:
        self.ray = ray
        self.weights = stored_weights(ray, weights)
        self.threads = max(1, round(workers.cpus_per_worker))
        self.actor_class = actor_class(ray, BatchWorker, workers)
        self.names = weights
        self.idle: deque = deque()  # workers that have started, the longest waiting first
        self.starting: dict[Any, Any] = {}  # a worker's answer to ready(), to come -> the worker
        self.busy: dict[Any, tuple[Item, Any, float]] = {}  # an answer to come -> its item, worker, when sent
        self.failure = ""  # why the last worker that could not start did not
        for _ in range(count):
            self._start()

    def _start(self) -> None:
        """A new worker, wherever Ray finds room. It gets items once it has started, so that none
        waits on a worker that has no room to start (more workers asked for than fit, a lost node)."""
        actor = self.actor_class.remote(self.weights, self.threads, Path(self.names).name)
        self.starting[actor.ready.remote()] = actor

    def _started(self, ready) -> None:
        actor = self.starting.pop(ready)
        try:
            self.ray.get(ready)
        except self.ray.exceptions.RayError as error:  # e.g. nst or TensorFlow missing on its node
            self.ray.kill(actor)
            self.failure = first_line(error)
            return
        self.idle.append(actor)

    def run(self, items: list[Item], options: Options) -> Iterable[tuple[Item, Outcome, _Made | None]]:
        """Yields each item as it finishes: its outcome, and what was made for the driver to write."""
        paintings = {path: self.ray.put(path.read_bytes()) for item in items for path in item.paintings}
        waiting = deque(items)
        attempts = dict.fromkeys(items, 0)
        while waiting or self.busy:
            while waiting and self.idle:
                item = waiting.popleft()
                attempts[item] += 1
                actor = self.idle.popleft()
                styles = [paintings[path] for path in item.paintings]
                # Top-level arguments: Ray resolves those references to the bytes, on the worker's node.
                reference = actor.stylize.remote(item.photo.read_bytes(), options, item.names(self.names), *styles)
                self.busy[reference] = (item, actor, time.perf_counter())
            if not self.busy and not self.starting:
                raise NstError(f"no worker could start on Ray ({self.failure})")
            [ready], _ = self.ray.wait([*self.busy, *self.starting], num_returns=1)
            if ready in self.starting:
                self._started(ready)
                continue
            item, actor, sent = self.busy.pop(ready)
            try:
                answer = self.ray.get(ready)
            except self.ray.exceptions.RayActorError as error:
                self.ray.kill(actor)
                self._start()
                if attempts[item] <= RETRIES:
                    waiting.appendleft(item)
                    continue
                reason = f"a worker died under it {attempts[item]} times ({first_line(error)})"
                yield item, Outcome.of(item, FAILED, error=reason, attempts=attempts[item]), None
                continue
            self.idle.append(actor)
            overhead = round(time.perf_counter() - sent - answer["seconds"], 3)
            common = {"seconds": answer["seconds"], "node": answer["node"], "attempts": attempts[item],
                      "overhead_s": overhead}  # fmt: skip
            if "error" in answer:
                yield item, Outcome.of(item, FAILED, error=answer["error"], **common), None
            else:
                made = _Made(answer["png"], answer["report"])
                yield item, Outcome.of(item, DONE, losses=made.report["final"], **common), made

    def close(self) -> None:
        for actor in [*self.idle, *self.starting.values(), *(actor for _, actor, _ in self.busy.values())]:
            self.ray.kill(actor)


class BatchWorker(WorkerProcess):
    """A Ray actor: one process with the driver's Keras backend, that loads VGG19 on its first
    item and keeps it (nst.stylize loads it once per process) for the items after."""

    def __init__(self, weights: bytes | None, threads: int, weights_name: str = "vgg19.h5") -> None:
        super().__init__(weights, threads, weights_name)
        self.run = load_run()

    def stylize(self, photo: bytes, options: Options, names: dict[str, Any], *paintings: bytes) -> dict:
        """One item: the PNG bytes and report the single command would write, or its error."""
        import ray

        started = time.perf_counter()
        answer: dict[str, Any] = {"node": ray.get_runtime_context().get_node_id()[:12]}
        try:
            if self.weights is not None:
                options = dataclasses.replace(options, weights=str(self.weights))
            result = self.run.stylize(_decoded(photo), [_decoded(painting) for painting in paintings], options)
            result.report["params"].update(names)
            answer["png"] = result.save(Path(self.folder.name) / "result.png").read_bytes()
            answer["report"] = result.report
        except NstError as error:
            answer["error"] = str(error)
        except Exception as error:  # a bug or an exhausted machine: the item fails, the batch goes on
            answer["error"] = f"{type(error).__name__}: {first_line(error)}"
        answer["seconds"] = round(time.perf_counter() - started, 3)
        return answer


def _decoded(data: bytes) -> Image.Image:
    """An image file's bytes as Pillow opens it from disk, turned upright as nst does a file."""
    with Image.open(io.BytesIO(data)) as image:
        return ImageOps.exif_transpose(image)
