"""Many pictures at once: each photo with each painting (or with their blend), on Ray.

Ray runs the workers: a local instance by default (nothing to set up), or a cluster
(``address="auto"`` or ``"ray://HOST:10001"``). Each worker is a Ray actor that loads VGG19 once
and calls :func:`nst.stylize` item after item (the workers and their pool:
:mod:`~nst.run.batch_workers`). This process, the driver, only hands items to idle workers, reads
the input files and sends their bytes, and writes the PNG bytes and reports that come back:
workers on other machines need neither a shared file system nor the user's files. Ray is imported
only when a batch runs; it is the ``cluster`` extra.
"""

from __future__ import annotations

import dataclasses
import glob
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nst.errors import Interrupted, NstError
from nst.media.images import source_list
from nst.media.saving import check_writable, output_name, read_params, write_atomically, write_json
from nst.options import INITS, Options
from nst.run.cluster import Workers, connect, import_ray
from nst.run.inputs import check_inputs
from nst.run.progress import BatchProgress, ItemClock
from nst.run.renamed import renamed_keywords

DONE, SKIPPED, FAILED, INTERRUPTED = "done", "skipped", "failed", "interrupted"
# What a folder given as PHOTOS contributes: its files with these extensions (a file named
# explicitly is always an item, so that a bad one fails with the single command's message).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif")
SUMMARY_NAME = "summary.json"


@dataclass(frozen=True)
class Item:
    """One picture to make: a photo, its painting (or the paintings blended), where it goes."""

    photo: Path
    paintings: tuple[Path, ...]
    output: Path

    @property
    def report(self) -> Path:
        return self.output.with_suffix(".json")

    @property
    def style(self) -> str | list[str]:
        """The painting as nst names it in ``params``: its path, or a list of them for a blend."""
        names = [str(path) for path in self.paintings]
        return names if len(names) > 1 else names[0]

    def names(self, weights: str) -> dict[str, Any]:
        """The ``params`` that name the files, as the single command writes them (the workers
        see bytes, not these paths)."""
        return {"content": str(self.photo), "style": self.style, "weights": weights}


@dataclass
class Outcome:
    """A line of the summary: what happened to one item."""

    input: str
    painting: str | list[str]
    output: str
    status: str
    seconds: float | None = None
    losses: dict[str, float] | None = None  # the report's final losses
    error: str | None = None  # the single command's one-line message
    node: str | None = None  # the Ray node that made it
    attempts: int = 0  # workers that started it (more than 1: a worker died under it)
    # Seconds from handing the item to Ray to having its answer, beyond the worker's own run:
    # sending, scheduling, returning (items go only to workers that have started).
    overhead_s: float | None = None

    @classmethod
    def of(cls, item: Item, status: str, **details: Any) -> Outcome:
        return cls(str(item.photo), item.style, str(item.output), status, **details)


@dataclass
class Summary:
    """What a batch did, item by item; saved as ``OUTDIR/summary.json``."""

    items: list[Outcome]
    wall_s: float = 0.0
    workers: int = 0

    def count(self, status: str) -> int:
        return sum(outcome.status == status for outcome in self.items)

    @property
    def failed(self) -> list[Outcome]:
        return [outcome for outcome in self.items if outcome.status == FAILED]

    def as_dict(self) -> dict[str, Any]:
        counts = {status: self.count(status) for status in (DONE, SKIPPED, FAILED, INTERRUPTED)}
        items = [dataclasses.asdict(outcome) for outcome in self.items]
        return {"counts": counts, "wall_s": round(self.wall_s, 3), "workers": self.workers, "items": items}

    def save(self, path: Path) -> Path:
        return write_json(path, self.as_dict())


BatchCallback = Callable[[BatchProgress], None]


@renamed_keywords(paintings="style", outdir="output", workers="cluster")
def stylize_many(
    photos: Sequence[str | os.PathLike],
    style: str | os.PathLike | Sequence[str | os.PathLike],
    output: str | os.PathLike,
    options: Options | None = None,
    *,
    blend: bool | None = None,
    cluster: Workers | int | str | None = None,
    overwrite: bool = False,
    callback: BatchCallback | None = None,
    **settings: Any,
) -> Summary:
    """``nst batch PHOTOS --style PAINTING -o OUTPUT``, its settings by the same names: stylize each
    photo with each painting of ``style`` on Ray, write ``OUTPUT/PHOTO-PAINTING.png`` with its report
    ``.json`` beside it, and ``OUTPUT/summary.json``. ``photos`` are files, folders or globs.

    ``blend`` (default: whether the settings give ``style_blend``, as on the command line) makes one
    picture of each photo with the paintings blended. ``cluster`` is where the workers run, as for
    :func:`nst.stylize`: a number of them on a local Ray instance (the command's ``--workers``), a
    cluster's address (``--address``), a :class:`nst.run.cluster.Workers`, or None: as many as the
    CPUs (or GPUs) of a local Ray instance, or of the one this process joined, hold. An item whose
    output exists with the same settings is skipped; a bad input fails its own item with the single
    command's message. Ctrl-C raises :class:`nst.Interrupted` whose ``result`` is the summary so far;
    finished outputs are kept. (``paintings``, ``outdir`` and ``workers``, old names, warn and still work.)"""
    started = time.perf_counter()
    options = dataclasses.replace(options or Options(), **settings)
    _check_batch_options(options)
    outdir = Path(output)
    outdir.mkdir(parents=True, exist_ok=True)
    check_writable(outdir / SUMMARY_NAME, "the summary")
    paintings = [Path(path) for path in source_list(style)]
    blended = options.style_blend is not None if blend is None else blend
    items = plan(find_photos(photos), paintings, outdir, blended)
    weights = options.resolved_weights()
    summary = Summary([Outcome.of(item, INTERRUPTED) for item in items])
    position = {item: index for index, item in enumerate(items)}
    clock = ItemClock()
    done = 0

    def record(item: Item, outcome: Outcome) -> None:
        nonlocal done
        summary.items[position[item]] = outcome
        done += 1
        if callback is not None:
            callback(clock.progress(done, len(items), outcome, summary.workers))

    def on_start(count: int) -> None:
        summary.workers = count
        if callback is not None:
            callback(clock.progress(done, len(items), None, count))

    to_run = []
    for item in items:
        try:
            if not overwrite and _already_made(item, options, weights):
                record(item, Outcome.of(item, SKIPPED))
                continue
            check_inputs(item.photo, item.paintings, options)
        except NstError as error:
            record(item, Outcome.of(item, FAILED, error=str(error)))
            continue
        to_run.append(item)
    try:
        if to_run:
            _run_on_ray(to_run, options, weights, Workers.of(cluster) or Workers(), on_start, record)
    except KeyboardInterrupt:
        raise Interrupted(_finish(summary, outdir, started)) from None
    return _finish(summary, outdir, started)


def _finish(summary: Summary, outdir: Path, started: float) -> Summary:
    summary.wall_s = time.perf_counter() - started
    summary.save(outdir / SUMMARY_NAME)
    return summary


def find_photos(sources: Iterable[str | os.PathLike]) -> list[Path]:
    """The photos that files, folders (their image files, sorted) and globs name, in order."""
    photos: list[Path] = []
    for source in map(str, sources):
        if glob.has_magic(source):
            matches = sorted(Path(match) for match in glob.glob(source))
            if not matches:
                raise NstError(f"{source}: matches no file")
            photos.extend(_images_in(matches))
        else:
            photos.extend(_images_in([Path(source)]))
    if not photos:
        raise NstError("no photos: name image files, folders that hold some, or globs")
    return list(dict.fromkeys(photos))


def plan(photos: Sequence[Path], paintings: Sequence[Path], outdir: Path, blend: bool) -> list[Item]:
    """The items, named as the single command names its output: ``PHOTO-PAINTING.png``."""
    if not paintings:
        raise NstError("no paintings: give at least one --style")
    groups = [tuple(paintings)] if blend else [(painting,) for painting in paintings]
    items = [Item(photo, group, outdir / output_name(photo, group)) for photo in photos for group in groups]
    first: dict[Path, Item] = {}
    for item in items:
        other = first.setdefault(item.output, item)
        if other is not item:
            raise NstError(f"{other.photo} and {item.photo} would both be written to {item.output}; rename one")
    return items


def _images_in(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(file for file in path.iterdir() if file.suffix.lower() in IMAGE_SUFFIXES))
        else:
            found.append(path)
    return found


def _check_batch_options(options: Options) -> None:
    # These name more files, which the workers (maybe on other machines) could not open.
    if options.mask or options.style_masks or options.init not in INITS:
        raise NstError("batch runs take no --mask, --style-masks or --init image file")
    if options.checkpoint or options.resume:
        raise NstError("batch runs take no --checkpoint or --resume: a second run skips what is done")


def _already_made(item: Item, options: Options, weights: str) -> bool:
    """Whether the output exists from a run with these settings; an output made otherwise is
    not replaced unless asked."""
    if not item.output.exists():
        return False
    try:
        params = read_params(item.output)
    except NstError:
        params = {}
    names = item.names(weights)
    same_files = all(params.get(key) == value for key, value in names.items())
    if same_files and Options.from_dict(params) == dataclasses.replace(options, weights=weights):
        return True
    raise NstError(f"{item.output}: already exists, made with other settings; pass --overwrite to replace it")


def _run_on_ray(
    items: list[Item],
    options: Options,
    weights: str,
    workers: Workers,
    on_start: Callable[[int], None],
    record: Callable[[Item, Outcome], None],
) -> None:
    # The workers' side imports this module's items and outcomes; it loads when a batch runs, as Ray does.
    from nst.run.batch_workers import WorkerPool

    ray = import_ray("batch runs")
    started_here = connect(ray, workers.address)
    pool = None
    try:
        workers = workers.placed(ray.cluster_resources())
        pool = WorkerPool(ray, workers, weights, min(len(items), workers.count))
        on_start(len(pool.starting))
        for item, outcome, made in pool.run(items, options):
            if made is not None:  # the report first: an output that exists is a finished item
                write_json(item.report, made.report)
                write_atomically(item.output, lambda file, png=made.png: file.write(png))
            record(item, outcome)
    finally:
        if pool is not None:
            pool.close()
        if started_here:
            ray.shutdown()
