"""What ``nst PHOTO PAINTING`` and ``nst reproduce`` do with their parsed arguments: the picture
checked before TensorFlow loads, run (on Ray workers for its tiles, or fast), its progress shown,
kept when stopped, and saved with its report and the line that says what was made. On workers, a
checkpoint kept beside the output lets the same command go on after losing them. Each handler
returns the command's exit code."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from nst.apps.cli.settings import (
    CHECKPOINT_SUFFIX,
    REPRODUCE_SETTINGS,
    STYLIZE_SETTINGS,
    options_from,
    tile_workers_from,
)
from nst.apps.cli.terminal import ProgressBar, StopRequests, count, progress_bar
from nst.errors import Interrupted, NstError, StoppedEarly, WorkersLost
from nst.media.images import source_list
from nst.media.saving import check_output_path, check_writable, output_name, read_params
from nst.options import Options
from nst.run import ladder
from nst.run.checkpoints import load_checkpoint
from nst.run.cluster import Workers
from nst.run.fast import stylize_fast
from nst.run.inputs import check_inputs
from nst.run.loading import load_run
from nst.run.progress import Progress, duration
from nst.run.result import Result
from nst.run.snapshots import Snapshots


def _stylize(args: argparse.Namespace) -> int:
    """``nst PHOTO PAINTING``: checked, run (on workers, or fast), saved with its report."""
    options = options_from(args)
    output = Path(args.output or output_name(args.content, args.style))
    _check_picture(args, options, output)
    cluster = tile_workers_from(args)
    options, kept = _kept_checkpoint(options, cluster, output)
    _check_checkpoints(args, options, kept)
    if options.fast:
        return _stylize_fast(args, options, output)
    snapshots = Snapshots(output, args.save_every, args.animation, steps=sum(ladder.steps_per_size(options)))
    stylize = load_run().stylize

    show_progress = not args.quiet and sys.stderr.isatty()
    with progress_bar(options, enabled=show_progress, on=_tiles_on(cluster)) as bar:
        try:
            with StopRequests() as stop_requests:  # `kill` keeps the picture so far, as Ctrl-C does
                callback, on_tile = _step_callbacks(stop_requests, bar, snapshots)
                result = stylize(args.content, args.style, options, callback=callback, on_tile=on_tile,
                                 cluster=cluster)  # fmt: skip
        except WorkersLost as lost:
            raise NstError(f"{lost}; the same command goes on from it" if kept else str(lost)) from None
        except (Interrupted, StoppedEarly) as stop:
            return _keep_stopped(stop, output)
    snapshots.finish(result)
    _save_picture(args, result, output, kept)
    return 0


def _check_picture(args: argparse.Namespace, options: Options, output: Path) -> None:
    """Everything a person can get wrong is checked before TensorFlow loads and the run starts."""
    check_output_path(output)
    if output.exists() and not args.overwrite:
        raise NstError(f"{output}: already exists; pass --overwrite to replace it")
    check_writable(output)
    if args.report:
        check_writable(args.report, "the report")
    check_inputs(args.content, args.style, options)
    if args.animation:
        check_writable(args.animation, "the animation")


def _kept_checkpoint(options: Options, cluster: Workers | None, output: Path) -> tuple[Options, Path | None]:
    """On workers, a checkpoint beside the output unless one is named: the same command goes on
    from it. The options that keep (and resume from) it, and its path (None: none kept)."""
    if cluster is None or cluster.local or options.checkpoint is not None or options.fast:
        return options, None
    kept = output.with_name(output.name + CHECKPOINT_SUFFIX)
    resume = options.resume or (str(kept) if kept.exists() else None)
    return replace(options, checkpoint=str(kept), resume=resume), kept


def _check_checkpoints(args: argparse.Namespace, options: Options, kept: Path | None) -> None:
    if options.checkpoint:
        check_writable(options.checkpoint, "the checkpoint")
    if options.resume:
        load_checkpoint(options.resume)
        if kept is not None and options.resume == str(kept) and not args.quiet:
            print(f"nst: going on from {kept}", file=sys.stderr)


def _tiles_on(cluster: Workers | None) -> str:
    """What the bar adds to the device where a print's tiles run on Ray workers."""
    if cluster is None or cluster.local:
        return ""
    return f", tiles on {count(cluster.count, 'Ray worker')}" if cluster.count else ", tiles on Ray"


def _step_callbacks(
    stop_requests: StopRequests, bar: ProgressBar | None, snapshots: Snapshots
) -> tuple[Callable[[Progress], None], Callable[[int, int, int], None]]:
    """The run's callbacks after each step and each tile: a stop asked for stops it there, the bar
    moves, the snapshots are saved."""

    def callback(progress: Progress) -> None:
        stop_requests.check()
        if bar is not None:
            bar(progress)
        snapshots(progress)

    def on_tile(size: int, done: int, tiles: int) -> None:
        stop_requests.check()
        if bar is not None:
            bar.tile(size, done, tiles)

    return callback, on_tile


def _keep_stopped(stop: Interrupted | StoppedEarly, output: Path) -> int:
    """A run stopped by the user (exit code 130) or by a stopping rule (an error): the picture so far is saved."""
    for number in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C ends at once
        signal.signal(number, signal.SIG_DFL)
    saved = stop.result.save(output, fallback=True)
    if isinstance(stop, Interrupted):
        print(f"nst: interrupted; the picture so far is in {saved}", file=sys.stderr)
        return 130
    raise NstError(f"{stop} in {saved}") from None


def _save_picture(args: argparse.Namespace, result: Result, output: Path, kept: Path | None) -> None:
    """The finished picture, its report, and the line that says what was made."""
    result.save(output, fallback=True)
    if kept is not None:
        kept.unlink(missing_ok=True)  # the picture is made: nothing to go on from
    if args.report:
        result.save_report(args.report)
    if not args.quiet:
        width, height = result.report["params"]["output_size"]
        steps = sum(result.report["steps_per_scale"])
        print(f"wrote {output} ({width}x{height}, {steps} steps, {duration(result.report['wall_s'])})"
              + _tiles_done(result.report.get("workers")))  # fmt: skip


def _tiles_done(workers: dict | None) -> str:
    """What the Ray workers did, for the summary line: the tile passes each ran, and those sent again."""
    if not workers:
        return ""
    each = " and ".join(str(count) for count in workers["tiles"].values())
    again = f", {count(workers['resent'], 'tile')} sent again" if workers["resent"] else ""
    lost = f", {count(workers['lost'], 'worker')} lost" if workers["lost"] else ""
    return f"; tiles on {count(workers['workers'], 'Ray worker')}: {each} tile passes{again}{lost}"


def _stylize_fast(args: argparse.Namespace, options: Options, output: Path) -> int:
    """--fast: the fast network's picture, saved like any result; TensorFlow never loads."""
    if args.save_every or args.animation or options.checkpoint or options.resume:
        raise NstError("--fast makes its picture in one pass: no steps to save, animate, checkpoint or resume")
    result = stylize_fast(args.content, args.style, options, measure=bool(args.report))
    result.save(output)
    if args.report:
        result.save_report(args.report)
    if not args.quiet:
        width, height = result.report["params"]["output_size"]
        print(f"wrote {output} ({width}x{height}, the fast network, {result.report['wall_s']:.1f} s)")
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    """Rebuilds the arguments of the original run from the image's parameters and runs it."""
    params = read_params(args.image)
    image = Path(args.image)
    stored_style = source_list(params["style"])
    # From the declarations: the stylize command's own settings at their defaults, the run's settings
    # from the image, then reproduce's own (its output, report, quiet and overwrite).
    arguments = {
        **{setting.name: setting.default for setting in STYLIZE_SETTINGS},
        **vars(Options.for_reproduction(params)),
        "content": args.content or params["content"],
        "style": args.style or stored_style,
        **{setting.name: getattr(args, setting.name) for setting in REPRODUCE_SETTINGS},
    }
    arguments["output"] = args.output or str(image.with_name(f"{image.stem}-reproduced{image.suffix}"))
    return _stylize(argparse.Namespace(**arguments))
