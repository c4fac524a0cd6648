"""What ``nst score``, ``nst serve``, ``nst batch`` and ``nst video`` do with their parsed
arguments: check what a person can get wrong before TensorFlow loads, call the library
(:mod:`nst.run`), show its progress, say what was made (a picture's commands, ``nst PHOTO PAINTING``
and ``nst reproduce``: :mod:`~nst.apps.cli.picture`). Each handler returns the command's exit code."""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import sys
from pathlib import Path

from nst.apps.cli.settings import options_from, tile_workers_from, workers_from
from nst.apps.cli.terminal import StopRequests, batch_progress, count, device, video_progress
from nst.errors import Interrupted, NstError
from nst.media.images import load_image
from nst.options import Options
from nst.run import video  # no TensorFlow, its checks come first (the run loads when a clip starts)
from nst.run.loading import hide_tensorflow_warnings, load_run
from nst.run.progress import duration


def _score(args: argparse.Namespace) -> int:
    size = args.size or max(load_image(args.image).shape[:2])
    options = options_from(argparse.Namespace(**{**vars(args), "size": size}))
    load_image(args.content)
    for path in args.style:
        load_image(path)
    scores = load_run().score(args.image, args.content, args.style, options)
    if args.json:
        print(json.dumps(scores))
    else:
        width = max(map(len, scores))
        for name, value in scores.items():
            print(f"{name:>{width}}  {value:.6g}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from nst.apps.web import app as web  # FastAPI and uvicorn load only for this command

    if not args.abandon_after > 0:  # would cancel every run whose page had not asked about it that instant
        raise NstError(f"--abandon-after must be more than 0 seconds, got {args.abandon_after:g}")
    if not web.is_loopback(args.host):
        print(
            f"nst: warning: listening on {args.host}: anyone who can reach this machine can use the app",
            file=sys.stderr,
        )
    config = web.WebConfig(max_upload_mb=args.max_upload_mb, max_pixels=round(args.max_pixels * 1e6),
                           max_size=args.max_size, abandon_after_s=args.abandon_after)  # fmt: skip
    listener = web.listen(args.host, args.port)  # a busy port fails now, not after TensorFlow has loaded
    stylize = load_run().stylize
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.suppress(KeyboardInterrupt))  # Ctrl-C is how a server is meant to stop
        where = device()
        cluster = tile_workers_from(args)
        if cluster is not None:  # started once: every job's tiles run on them
            from nst.run.tile_workers import TileWorkers

            workers = stack.enter_context(TileWorkers(cluster, Options().resolved_weights()))
            stylize, where = (
                functools.partial(stylize, cluster=workers),
                f"{where}, tiles on {count(workers.stats.workers, 'Ray worker')}",
            )
        web.serve(listener, config, stylize, device=where)
    return 0


def _batch(args: argparse.Namespace) -> int:
    # Ray loads only for this command, when an item is left to run; Keras and its backend only in the workers.
    from nst.run import batch

    cluster = workers_from(args)
    with batch_progress(args.quiet) as progress, StopRequests():  # `kill` stops the batch as Ctrl-C does
        try:
            # Blended when --style-blend is given: the library's default, from the options.
            summary = batch.stylize_many(args.photos, args.style, args.output, options_from(args), cluster=cluster,
                                         overwrite=args.overwrite, callback=progress)  # fmt: skip
        except Interrupted as stop:
            made = stop.result.count(batch.DONE) + stop.result.count(batch.SKIPPED)
            where = Path(args.output) / batch.SUMMARY_NAME
            print(f"nst: interrupted; {count(made, 'finished picture')} in {args.output}, the summary in {where}",
                  file=sys.stderr)  # fmt: skip
            return 130
    if not args.quiet:
        counts = ", ".join(f"{summary.count(status)} {status}" for status in (batch.DONE, batch.SKIPPED, batch.FAILED))
        where = Path(args.output) / batch.SUMMARY_NAME
        on = f" on {count(summary.workers, 'worker')}" if summary.workers else ""
        print(f"{counts} in {duration(summary.wall_s)}{on}; summary in {where}")
    return 1 if summary.failed else 0


def _video(args: argparse.Namespace) -> int:
    options = options_from(args)
    max_time = None if args.max_time is None else args.max_time * 60  # minutes here, seconds in the library
    with video_progress(args.quiet) as progress, StopRequests() as stop_requests:  # `kill` keeps frames as Ctrl-C

        def callback(step) -> None:
            stop_requests.check()
            if progress is not None:
                progress(step)

        hide_tensorflow_warnings()  # as for a picture; the clip's checks come before TensorFlow loads
        try:
            result = video.stylize_video(
                args.clip, args.style, args.output, options, first_steps=args.first_steps,
                temporal_weight=args.temporal_weight, warm_start=args.warm_start, flow=args.flow, frames=args.frames,
                fps=args.fps, max_time=max_time, overwrite=args.overwrite, callback=callback,
            )  # fmt: skip
        except Interrupted as stop:
            done = stop.result.frames_folder
            print(f"nst: interrupted; finished frames are in {done}: the same command continues there",
                  file=sys.stderr)  # fmt: skip
            return 130
    if not args.quiet:
        made = len(result.computed)
        later = result.seconds[1:] if result.computed and result.computed[0] == 0 else result.seconds
        pace = f", {sum(later) / len(later):.1f} s a frame after the first" if later else ""
        audio = " with its audio" if result.audio else ""
        print(f"wrote {result.output} ({count(result.frames, 'frame')} at {result.fps:g} fps{audio}; "
              f"{made} made in {duration(result.wall_s)}{pace})")  # fmt: skip
    return 0
