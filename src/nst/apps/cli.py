"""The ``nst`` command: a thin layer over :mod:`nst` for people at a terminal.

nst PHOTO PAINTING [-o OUT] [options]          stylize
nst score IMAGE --content PHOTO --style PAINTING [--json]
nst reproduce OUT.png [-o AGAIN.png]
nst serve [--host 127.0.0.1] [--port 8000]     the web app
nst batch PHOTOS... --style PAINTING -o OUTDIR  many pictures, on Ray (local or a cluster)
nst video CLIP PAINTING... -o OUT.mp4          a video clip, frame by frame without flicker
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from nst import __version__
from nst.errors import Interrupted, NstError, StoppedEarly
from nst.media.clips import FOLDER_FPS
from nst.media.flow import FLOW_METHODS
from nst.media.images import NstWarning, check_output_path, check_writable, load_image, read_params
from nst.options import (
    NORMALIZATIONS,
    OPTIMIZERS,
    PRECONDITIONERS,
    PRESERVE_COLORS,
    PRESETS,
    VGG_NORMALIZATIONS,
    WEIGHTS_ENV,
    Options,
)
from nst.run.checkpoints import load_checkpoint
from nst.run.inputs import check_inputs
from nst.run.snapshots import Snapshots

DEFAULTS = Options()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the user sees what is wrong at a glance.
        self.exit(2, f"nst: error: {message} (see {self.prog} --help)\n")


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _numbers(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in _names(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _option(group, name: str, help: str, **kwargs: Any) -> None:
    """A flag for the Options field ``name``, with the field's default shown in the help."""
    default = kwargs.pop("default", getattr(DEFAULTS, name))
    shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
    suffix = f" (default {shown})" if default is not None and kwargs.get("action") is None else ""
    if kwargs.get("action") is None:
        kwargs.setdefault("metavar", "N" if kwargs.get("type") is int else "X")
    group.add_argument(f"--{name.replace('_', '-')}", dest=name, default=default, help=help + suffix, **kwargs)


def _add_loss_options(parser: argparse.ArgumentParser) -> None:
    sizes = parser.add_argument_group("image sizes")
    _option(sizes, "size", "longer side of the output in pixels", type=int)
    _option(sizes, "style_size", "longer side the painting is resized to (default: --size)", type=int)
    _option(sizes, "style_scale", "resize the painting by this: > 1 bigger strokes, < 1 finer texture", type=float)

    loss = parser.add_argument_group("losses")
    _option(loss, "content_weight", "alpha, weight of the content loss", type=float)
    _option(loss, "style_weight", "beta, weight of the style loss", type=float)
    _option(loss, "style_blend", "one weight per painting, normalised to sum 1 (default equal)", type=_numbers,
            metavar="W1,W2")  # fmt: skip
    _option(loss, "preserve_colors", "keep the photo's colours: 'luminance' (transfer on luminance only) or "
            "'histogram' (the painting's colours matched to the photo's first)", choices=PRESERVE_COLORS,
            metavar="{luminance,histogram}")  # fmt: skip
    _option(loss, "mask", "image: white = stylize, black = keep the photo, grey in between", metavar="PATH")
    _option(loss, "style_masks", "one mask image per painting: each region takes its own painting's style",
            type=_names, metavar="M1,M2")  # fmt: skip
    _option(loss, "tv_weight", "weight of total-variation smoothing", type=float)
    _option(
        loss, "normalization", "'mean' (the TensorFlow tutorial's; balance kept across sizes) or 'sum' (the spec's)",
        choices=NORMALIZATIONS, metavar="{mean,sum}",
    )  # fmt: skip
    _option(loss, "content_layers", "VGG19 layers for content", type=_names, metavar="L1,L2")
    _option(loss, "style_layers", "VGG19 layers for style", type=_names, metavar="L1,L2")
    _option(loss, "style_layer_weights", "one weight per style layer (default 1 each)", type=_numbers, metavar="W1,W2")
    _option(loss, "balance_style_layers", "scale the style layers' weights so that each counts equally for the photo",
            action=argparse.BooleanOptionalAction)  # fmt: skip
    _option(loss, "vgg_normalization", "'gatys': VGG19 with each filter's mean activation scaled to 1 (Gatys et al."
            " 2016), 'none': as trained", choices=VGG_NORMALIZATIONS, metavar="{none,gatys}")  # fmt: skip
    _option(loss, "weights", f"Keras VGG19 weights file (default ${WEIGHTS_ENV}, else imagenet)", metavar="PATH")


def _add_run_options(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    run = parser.add_argument_group("optimisation")
    _option(run, "optimizer", "'lbfgs' (L-BFGS, bounded to [0, 1]) or 'adam' (the spec's)", choices=OPTIMIZERS,
            metavar="{lbfgs,adam}")  # fmt: skip
    _option(run, "steps", "optimisation steps at the output size (one step: one VGG19 pass)", type=int)
    _option(run, "time_budget", "seconds: plan the steps to deliver the best image in this time", type=float)
    _option(run, "scales", "number of sizes of the coarse-to-fine ladder (1: the output size only; default: 1, or"
            " for a print over 1024 px, 512 px doubling up to --size)", type=int)  # fmt: skip
    _option(run, "scale_start", "longer side of the first, coarsest size", type=int)
    _option(run, "coarse_steps", "steps at each coarser size", type=int)
    _option(run, "init", "start from the photo, uniform noise, the painting's mean colour, or an image file",
            metavar="{content,noise,style-mean,PATH}")  # fmt: skip
    _option(run, "seed", "random seed, makes --init noise repeatable", type=int)
    _option(run, "learning_rate", "Adam's learning rate", type=float)
    _option(run, "beta_1", "Adam's beta_1", type=float)
    _option(run, "epsilon", "Adam's epsilon", type=float)
    _option(run, "lbfgs_history", "L-BFGS: number of correction pairs kept", type=int)
    _option(run, "preconditioner", "L-BFGS: 'gaussian' (smooth image pyramid), 'blocks' (block means: leaves a grid),"
            " 'none'", choices=PRECONDITIONERS, metavar="{gaussian,blocks,none}")  # fmt: skip
    _option(run, "max_memory", "stay within this many MB: a size too large for it is run in tiles, and a run that"
            " would not fit even so is refused (default: what is available)", type=float)  # fmt: skip
    _option(run, "tile", "run in tiles of this many px (a multiple of 16; default: only when memory needs it, as"
            " large as fits)", type=int)  # fmt: skip
    _option(run, "halo", "px of the image around each tile that VGG19 sees with it (a multiple of 16)", type=int)
    _option(run, "jit_compile", "compile the step with XLA", action=argparse.BooleanOptionalAction)
    return run


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nst",
        description="Repaint a photo in the style of a painting (neural style transfer, Gatys et al.). "
        "'nst score --help': score an image; 'nst reproduce --help': run again from a PNG's parameters; "
        "'nst serve --help': the same in a web browser.",
        epilog=f"VGG19 weights: --weights PATH, else ${WEIGHTS_ENV}, else Keras downloads the ImageNet weights once.",
    )
    parser.add_argument("content", help="the photo (any image Pillow reads)")
    parser.add_argument("style", nargs="+", help="the painting to take the style from; several are blended")
    parser.add_argument("-o", "--output", help="result file, .png .jpg or .webp (default CONTENT-STYLE.png here)")
    parser.add_argument("--report", metavar="PATH", help="also write a JSON report: settings, losses, timings")
    parser.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    parser.add_argument("--save-every", type=int, metavar="N", help="also save every N-th step as OUTPUT-0010.png etc.")
    parser.add_argument(
        "--animation", metavar="PATH", help="also write an animation of the picture forming: .gif, .webp or .mp4"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")
    parser.add_argument("--version", action="version", version=f"nst {__version__}")
    parser.add_argument(
        "--preset", choices=PRESETS, help="start from named settings ('spec': the spec's plain Adam loop, 1000 steps)"
    )
    _add_loss_options(parser)

    run = _add_run_options(parser)
    _option(run, "checkpoint", "save the image and optimizer state here every --checkpoint-every steps and on Ctrl-C",
            metavar="PATH.npz")  # fmt: skip
    _option(run, "checkpoint_every", "steps between checkpoints", type=int)
    _option(run, "resume", "continue from a checkpoint (same options; --steps counts from the start)",
            metavar="PATH.npz")  # fmt: skip
    return parser


def build_score_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nst score",
        description="Print the content, style, total-variation and total loss of IMAGE under the given loss settings,"
        " and its picture measures: grid (1.00: no block grid added) and noise (speckle relative to the photo's"
        " and painting's).",
    )
    parser.add_argument("image", help="the image to score (e.g. a result)")
    parser.add_argument("--content", required=True, metavar="PHOTO", help="the photo")
    parser.add_argument("--style", required=True, nargs="+", metavar="PAINTING", help="the painting (or several)")
    parser.add_argument("--json", action="store_true", help="print JSON: total, content, style, tv, grid, noise")
    _add_loss_options(parser)
    parser.set_defaults(size=None)  # the image's own size, so that a result is scored as it is
    return parser


def build_reproduce_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nst reproduce",
        description="Run again the run that made IMAGE, from the parameters nst stored in it (PNGs nst wrote).",
    )
    parser.add_argument("image", help="a PNG written by nst")
    parser.add_argument("-o", "--output", help="result file (default IMAGE-reproduced.png)")
    parser.add_argument("--overwrite", action="store_true", help="replace the output file if it exists")
    parser.add_argument("--content", metavar="PHOTO", help="the photo, if it is no longer where the run read it")
    parser.add_argument("--style", nargs="+", metavar="PAINTING", help="the painting(s), likewise")
    parser.add_argument("--report", metavar="PATH", help="also write a JSON report")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")
    return parser


def build_serve_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nst serve",
        description="Style transfer in a web browser: pick a photo and paintings, watch the picture form, download "
        "it. One run at a time; the others wait in line.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine "
                        "only; anything else lets others on the network use it)")  # fmt: skip
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000; 0: any free one)")
    parser.add_argument("--max-upload-mb", type=float, default=20.0, metavar="MB", help="largest image file accepted "
                        "(default 20)")  # fmt: skip
    parser.add_argument("--max-pixels", type=float, default=40.0, metavar="MILLIONS", help="largest image accepted, "
                        "in millions of pixels (default 40)")  # fmt: skip
    parser.add_argument("--max-size", type=int, default=1024, metavar="N", help="largest --size a run may ask for "
                        "(default 1024)")  # fmt: skip
    return parser


def build_batch_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nst batch",
        description="Stylize many photos: each with each painting (or with their blend, given --style-blend), on Ray:"
        " a local instance by default, or a cluster (--address). Writes OUTDIR/PHOTO-PAINTING.png, its report"
        " (.json) and OUTDIR/summary.json; a second run skips the pictures already made with the same settings.",
        epilog="Needs Ray: pip install 'nst[cluster]'. Exit code 0: every item done or skipped; 1: some failed.",
    )
    parser.add_argument("photos", nargs="+", metavar="PHOTOS", help="photo files, folders of them, or globs")
    parser.add_argument("--style", action="append", required=True, metavar="PAINTING",
                        help="a painting; repeat for several (each its own pictures unless --style-blend)")  # fmt: skip
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the pictures")
    parser.add_argument("--overwrite", action="store_true", help="redo pictures that exist (otherwise skipped)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no line per picture")
    parser.add_argument("--preset", choices=PRESETS, help="start from named settings (see nst --help)")
    ray = parser.add_argument_group("Ray")
    ray.add_argument("--address", metavar="auto|ray://HOST:10001", help="join a Ray cluster (default: start a local"
                     " Ray instance for this batch)")  # fmt: skip
    ray.add_argument("--workers", type=int, metavar="N", help="workers (default: as many as the CPUs or GPUs hold)")
    ray.add_argument("--cpus-per-worker", type=float, default=1.0, metavar="N", help="CPUs (and compute threads)"
                     " each worker takes (default 1)")  # fmt: skip
    ray.add_argument("--gpus-per-worker", type=float, metavar="N", help="GPUs each worker takes (default: 1 on a"
                     " cluster with GPUs, a worker on each; 0 without)")  # fmt: skip
    _add_loss_options(parser)
    _add_run_options(parser)
    return parser


def build_video_parser() -> argparse.ArgumentParser:
    from nst.apps import video  # no TensorFlow: its constants and checks only

    parser = _Parser(
        prog="nst video",
        description="Stylize a video clip frame by frame without flicker (Ruder et al. 2016): each frame after the"
        " first starts from the previous stylized frame carried along the optical flow and is held close to it."
        " Finished frames are kept as they finish (in OUT.frames/ until the video is written): the same command"
        " again continues at the first missing frame.",
        epilog="Needs imageio-ffmpeg and OpenCV: pip install 'nst[video]'. --steps and --time-budget are per frame.",
    )
    parser.add_argument("clip", help="MP4, MOV, WebM, GIF, animated WebP, or a folder of numbered frames")
    parser.add_argument("style", nargs="+", help="the painting to take the style from; several are blended")
    parser.add_argument("-o", "--output", required=True, help="OUT.mp4 (H.264, with the clip's audio), .gif, .webp,"
                        " or a folder for PNG frames (a name without a suffix)")  # fmt: skip
    parser.add_argument("--overwrite", action="store_true", help="start again: replace the output and its frames")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")
    _add_loss_options(parser)
    run = _add_run_options(parser)
    clip = parser.add_argument_group("video")
    clip.add_argument("--first-steps", type=int, default=video.FIRST_STEPS, metavar="N", help="steps of the first"
                      f" frame, which starts from its photo (default {video.FIRST_STEPS})")  # fmt: skip
    clip.add_argument("--temporal-weight", type=float, default=video.TEMPORAL_WEIGHT, metavar="X", help="weight of"
                      f" the temporal loss; 0: warm start only (default {video.TEMPORAL_WEIGHT:g})")  # fmt: skip
    clip.add_argument("--warm-start", action=argparse.BooleanOptionalAction, default=True, help="start each"
                      " frame from the previous one warped along the flow (--no-warm-start: each alone)")  # fmt: skip
    clip.add_argument("--flow", choices=FLOW_METHODS, default="dis", help="optical flow: OpenCV's 'dis' (default)"
                      " or 'farneback'")  # fmt: skip
    clip.add_argument("--frames", type=int, metavar="N", help="the clip's first N frames only")
    clip.add_argument("--fps", type=float, metavar="X", help="frame rate of the output (default the clip's; a folder"
                      f" of frames: {FOLDER_FPS:g})")  # fmt: skip
    clip.add_argument("--max-time", type=float, metavar="MINUTES", help="refuse a clip estimated to take longer")
    # A clip has many frames: smaller frames and fewer steps than a picture's defaults.
    parser.set_defaults(**{name: getattr(video.VIDEO_DEFAULTS, name) for name in ("size", "steps", "jit_compile")})
    for action in run._group_actions + parser._actions:
        if action.dest in ("size", "steps") and action.help:
            action.help = re.sub(r"\(default \d+\)", f"(default {action.default})", action.help)
    return parser


def options_from(args: argparse.Namespace) -> Options:
    """The library options the parsed arguments describe."""
    return Options(**{name: getattr(args, name) for name in Options.__dataclass_fields__ if hasattr(args, name)})


def parse(argv: Sequence[str]) -> tuple[Callable[[argparse.Namespace], int], argparse.Namespace]:
    """The command to run and its arguments; a preset's values become the defaults that
    explicit flags override."""
    if argv and argv[0] == "score":
        return _score, build_score_parser().parse_args(argv[1:])
    if argv and argv[0] == "reproduce":
        return _reproduce, build_reproduce_parser().parse_args(argv[1:])
    if argv and argv[0] == "serve":
        return _serve, build_serve_parser().parse_args(argv[1:])
    if argv and argv[0] == "batch":
        return _batch, _parse_with_preset(build_batch_parser(), argv[1:])
    if argv and argv[0] == "video":
        return _video, build_video_parser().parse_args(argv[1:])
    return _stylize, _parse_with_preset(build_parser(), argv)


def _parse_with_preset(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    preset = parser.parse_known_args(argv)[0].preset if "--preset" in " ".join(argv) else None
    if preset:
        parser.set_defaults(**PRESETS[preset])
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    warnings.showwarning = _show_note
    command, args = parse(sys.argv[1:] if argv is None else list(argv))
    try:
        return command(args)
    except NstError as error:
        print(f"nst: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nst: interrupted", file=sys.stderr)
        return 130


def _stylize(args: argparse.Namespace) -> int:
    options = options_from(args)
    output = Path(args.output or "-".join(Path(path).stem for path in [args.content, *args.style]) + ".png")
    # Everything a person can get wrong is checked before TensorFlow loads and the run starts.
    check_output_path(output)
    if output.exists() and not args.overwrite:
        raise NstError(f"{output}: already exists; pass --overwrite to replace it")
    check_writable(output)
    if args.report:
        check_writable(args.report, "the report")
    check_inputs(args.content, args.style, options)
    if args.animation:
        check_writable(args.animation, "the animation")
    if options.checkpoint:
        check_writable(options.checkpoint, "the checkpoint")
    if options.resume:
        load_checkpoint(options.resume)
    snapshots = Snapshots(output, args.save_every, args.animation, steps=options.steps)
    stylize = _library().stylize

    show_progress = not args.quiet and sys.stderr.isatty()
    with _progress_bar(options, enabled=show_progress) as progress_bar:

        def callback(progress) -> None:
            stop_requests.check()
            if progress_bar is not None:
                progress_bar(progress)
            snapshots(progress)

        def on_tile(size: int, done: int, tiles: int) -> None:
            stop_requests.check()
            if progress_bar is not None:
                progress_bar.tile(size, done, tiles)

        try:
            with StopRequests() as stop_requests:  # `kill` keeps the picture so far, as Ctrl-C does
                result = stylize(args.content, args.style, options, callback=callback, on_tile=on_tile)
        except (Interrupted, StoppedEarly) as stop:
            for number in (signal.SIGINT, signal.SIGTERM):  # a second Ctrl-C ends at once
                signal.signal(number, signal.SIG_DFL)
            saved = stop.result.save(output, fallback=True)
            if isinstance(stop, Interrupted):
                print(f"nst: interrupted; the picture so far is in {saved}", file=sys.stderr)
                return 130
            raise NstError(f"{stop} in {saved}") from None
    snapshots.finish(result)
    result.save(output, fallback=True)
    if args.report:
        result.save_report(args.report)
    if not args.quiet:
        width, height = result.report["params"]["output_size"]
        steps = sum(result.report["steps_per_scale"])
        print(f"wrote {output} ({width}x{height}, {steps} steps, {_duration(result.report['wall_s'])})")
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    """Rebuilds the arguments of the original run from the image's parameters and runs it."""
    params = read_params(args.image)
    image = Path(args.image)
    stored_style = params["style"] if isinstance(params["style"], list) else [params["style"]]
    arguments = {
        **vars(Options.for_reproduction(params)),
        "content": args.content or params["content"],
        "style": args.style or stored_style,
        "output": args.output or str(image.with_name(f"{image.stem}-reproduced.png")),
        "report": args.report,
        "quiet": args.quiet,
        "save_every": None,
        "animation": None,
        "overwrite": args.overwrite,
    }
    return _stylize(argparse.Namespace(**arguments))


_SCORES = ("total", "content", "style", "tv", "grid", "noise")


def _score(args: argparse.Namespace) -> int:
    size = args.size or max(load_image(args.image).shape[:2])
    options = options_from(argparse.Namespace(**{**vars(args), "size": size}))
    load_image(args.content)
    for path in args.style:
        load_image(path)
    losses = _library().score(args.image, args.content, args.style, options)
    if args.json:
        print(json.dumps({name: losses[name] for name in _SCORES}))
    else:
        for name in _SCORES:
            print(f"{name:>8}  {losses[name]:.6g}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    from nst.apps.web import app as web  # FastAPI and uvicorn load only for this command

    if not web.is_loopback(args.host):
        print(
            f"nst: warning: listening on {args.host}: anyone who can reach this machine can use the app",
            file=sys.stderr,
        )
    config = web.WebConfig(max_upload_mb=args.max_upload_mb, max_pixels=round(args.max_pixels * 1e6),
                           max_size=args.max_size)  # fmt: skip
    listener = web.listen(args.host, args.port)  # a busy port fails now, not after TensorFlow has loaded
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a server is meant to stop
        web.serve(listener, config, _library().stylize, device=device())
    return 0


def _batch(args: argparse.Namespace) -> int:
    # Ray loads only for this command, when an item is left to run; Keras and its backend only in the workers.
    from nst.apps import batch

    workers = batch.Workers(args.address, args.workers, args.cpus_per_worker, args.gpus_per_worker)
    with _batch_progress(args.quiet) as progress, StopRequests():  # `kill` stops the batch as Ctrl-C does
        try:
            summary = batch.stylize_many(
                args.photos, args.style, args.output, options_from(args), blend=args.style_blend is not None,
                workers=workers, overwrite=args.overwrite, callback=progress,
            )  # fmt: skip
        except Interrupted as stop:
            made = stop.result.count(batch.DONE) + stop.result.count(batch.SKIPPED)
            where = Path(args.output) / batch.SUMMARY_NAME
            print(f"nst: interrupted; {_count(made, 'finished picture')} in {args.output}, the summary in {where}",
                  file=sys.stderr)  # fmt: skip
            return 130
    if not args.quiet:
        counts = ", ".join(f"{summary.count(status)} {status}" for status in (batch.DONE, batch.SKIPPED, batch.FAILED))
        where = Path(args.output) / batch.SUMMARY_NAME
        on = f" on {_count(summary.workers, 'worker')}" if summary.workers else ""
        print(f"{counts} in {_duration(summary.wall_s)}{on}; summary in {where}")
    return 1 if summary.failed else 0


def _video(args: argparse.Namespace) -> int:
    from nst.apps import video

    options = options_from(args)
    max_time = None if args.max_time is None else args.max_time * 60
    with _video_progress(args.quiet) as progress, StopRequests() as stop_requests:  # `kill` keeps frames as Ctrl-C

        def callback(step) -> None:
            stop_requests.check()
            if progress is not None:
                progress(step)

        logging.getLogger("tensorflow").setLevel(logging.ERROR)  # as for a picture (see _library)
        try:
            result = video.stylize_video(
                args.clip, args.style, args.output, options, first_steps=args.first_steps,
                temporal_weight=args.temporal_weight, warm_start=args.warm_start, flow_method=args.flow,
                max_frames=args.frames, fps=args.fps, max_time=max_time, overwrite=args.overwrite, callback=callback,
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
        print(f"wrote {result.output} ({_count(result.frames, 'frame')} at {result.fps:g} fps{audio}; "
              f"{made} made in {_duration(result.wall_s)}{pace})")  # fmt: skip
    return 0


@contextlib.contextmanager
def _video_progress(quiet: bool) -> Iterator[Callable[[Any], None] | None]:
    """A bar over the frames with the current frame's step and losses and the time left."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(unit="frame", dynamic_ncols=True, file=sys.stderr,
              bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} frames [{elapsed}{postfix}]") as bar:  # fmt: skip

        def update(progress) -> None:
            bar.total = progress.frames
            losses = progress.losses
            temporal = f", temporal {losses['temporal']:.3g}" if "temporal" in losses else ""
            left = "" if progress.remaining_s is None else f", {_duration(progress.remaining_s)} left"
            bar.set_postfix_str(f"frame {progress.frame}/{progress.frames} step {progress.step.step}, loss"
                                f" {losses['total']:.3g} (style {losses['style']:.3g}{temporal}){left}",
                                refresh=False)  # fmt: skip
            bar.update(progress.frame - 1 - bar.n)

        yield update


@contextlib.contextmanager
def _batch_progress(quiet: bool) -> Iterator[Callable[[Any], None] | None]:
    """A bar over the items with the time left (on a terminal), and a line for each item."""
    if quiet:
        yield None
        return
    from tqdm import tqdm

    with tqdm(unit="picture", dynamic_ncols=True, file=sys.stderr, disable=not sys.stderr.isatty()) as bar:

        def update(progress) -> None:
            bar.total = progress.total
            if progress.outcome is None:
                to_make = _count(progress.total - progress.done, "picture")
                bar.write(f"nst batch: {to_make} to make on {_count(progress.workers, 'worker')}", file=sys.stderr)
            else:
                bar.write(_item_line(progress.outcome), file=sys.stderr)
            bar.update(progress.done - bar.n)

        yield update


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def _item_line(outcome) -> str:
    painting = " + ".join(outcome.painting) if isinstance(outcome.painting, list) else outcome.painting
    if outcome.status == "failed":
        return f"failed  {outcome.input} with {painting}: {outcome.error}"
    seconds = f" ({_duration(outcome.seconds)})" if outcome.seconds is not None else ""
    return f"{outcome.status:<7} {outcome.output}{seconds}"


def device() -> str:
    """Where runs happen: "CPU", "GPU (NVIDIA H200)"; and the backend unless TensorFlow's."""
    from nst.core import backend

    name = backend.name()
    return backend.device() + ("" if name == "tensorflow" else f", {name}")


def _library():
    """nst.run.api (TensorFlow starts without its notices, see nst.quiet_start)."""
    from nst.run import api

    # Each scale compiles its own step function; TensorFlow's warning about that (on its Python
    # logger) is for programmers, not for someone waiting on a picture.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    return api


@contextlib.contextmanager
def _progress_bar(options: Options, enabled: bool) -> Iterator[_Bar | None]:
    """A bar of steps, or of seconds under a time budget or over several sizes (whose steps
    differ in cost), with the losses, the size and tile at work, and the time left."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    in_seconds = options.time_budget is not None or len(options.scale_sizes()) > 1
    # Over several sizes, the seconds they take are known once the first steps are measured.
    total = round(options.time_budget) if options.time_budget else None if in_seconds else options.steps
    with tqdm(total=total, unit="s" if in_seconds else "step", dynamic_ncols=True, file=sys.stderr) as bar:
        yield _Bar(bar, in_seconds, options.scale_sizes())


class _Bar:
    """Updates a tqdm bar from the run's steps and tiles."""

    def __init__(self, bar: Any, in_seconds: bool, sizes: list[int]) -> None:
        self.bar, self.in_seconds, self.sizes = bar, in_seconds, sizes
        self.started = time.monotonic()
        self.losses = ""

    def __call__(self, progress) -> None:
        self.describe()
        losses = progress.losses
        self.losses = f"loss {losses['total']:.3g} (content {losses['content']:.3g}, style {losses['style']:.3g})"
        self.show(progress.scale, "")
        if self.in_seconds:
            self.bar.total = max(self.bar.n, round(progress.elapsed_s + progress.remaining_s))
            self.bar.update(round(progress.elapsed_s) - self.bar.n)
        else:
            self.bar.update(progress.step - self.bar.n)

    def tile(self, size: int, done: int, tiles: int) -> None:
        """A tile of a step is done: a step at a print's size is long, so the bar moves with its tiles."""
        self.describe()
        self.show(size, f"tile pass {done}/{tiles}")
        if self.in_seconds and self.bar.total:
            self.bar.update(min(self.bar.total, round(time.monotonic() - self.started)) - self.bar.n)
        else:
            self.bar.refresh()

    def describe(self) -> None:
        if not self.bar.desc:
            self.bar.set_description_str(device(), refresh=False)

    def show(self, size: int, tile: str) -> None:
        at = f"{self.sizes[size - 1]} px ({size}/{len(self.sizes)})" if len(self.sizes) > 1 else ""
        self.bar.set_postfix_str(", ".join(part for part in (at, tile, self.losses) if part), refresh=False)


class StopRequests:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt, and are remembered.

    A signal that arrives while Python runs a finalizer or a garbage-collector callback (JAX, which
    TensorFlow imports when it is installed, registers one) has its KeyboardInterrupt swallowed:
    Python only prints "Exception ignored". ``check``, called after every step, raises it again, and
    the swallowed one is not printed.
    """

    def __init__(self) -> None:
        self.requested = False

    def __enter__(self) -> StopRequests:
        self.previous = {number: signal.signal(number, self.handle) for number in (signal.SIGINT, signal.SIGTERM)}
        self.previous_hook, sys.unraisablehook = sys.unraisablehook, self.unraisable
        return self

    def __exit__(self, *exception: object) -> None:
        for number, handler in self.previous.items():
            signal.signal(number, handler)
        sys.unraisablehook = self.previous_hook

    def handle(self, number: int, frame: object) -> None:
        self.requested = True
        raise KeyboardInterrupt

    def check(self) -> None:
        if self.requested:
            raise KeyboardInterrupt

    def unraisable(self, unraisable: Any) -> None:
        if not (self.requested and isinstance(unraisable.exc_value, KeyboardInterrupt)):
            self.previous_hook(unraisable)


def _show_note(message, category, *args: Any, **kwargs: Any) -> None:
    """Warnings meant for the user (NstWarning) as one line; others stay hidden unless NST_DEBUG."""
    if issubclass(category, NstWarning) or os.environ.get("NST_DEBUG"):
        print(f"nst: note: {message}", file=sys.stderr)


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
