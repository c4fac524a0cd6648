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
import functools
import json
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NoReturn

from nst import __version__
from nst.apps import video  # no TensorFlow: its defaults and checks (the run loads when a clip starts)
from nst.apps.common import hide_tensorflow_warnings, load_run
from nst.apps.web.config import WebConfig
from nst.errors import Interrupted, NstError, StoppedEarly, WorkersLost
from nst.media.clips import FOLDER_FPS
from nst.media.flow import FLOW_METHODS
from nst.media.images import (
    NstWarning,
    check_output_path,
    check_writable,
    load_image,
    output_name,
    read_params,
    source_list,
)
from nst.media.measures import MEANINGS
from nst.options import (
    BATCH,
    PRESETS,
    REPRODUCE,
    SCORE,
    SERVE,
    SETTINGS,
    STYLIZE,
    VIDEO,
    WEIGHTS_ENV,
    Options,
    Setting,
    split_list,
)
from nst.run.checkpoints import load_checkpoint
from nst.run.cluster import Workers
from nst.run.fast import stylize_fast
from nst.run.inputs import check_inputs
from nst.run.progress import BatchProgress, Progress, VideoProgress, duration, left_now
from nst.run.snapshots import Snapshots


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # No abbreviations: `--si 800` would be --size to argparse, past every check on what was given.
        super().__init__(*args, **{"allow_abbrev": False, **kwargs})
        self.commands: dict[str, argparse.ArgumentParser] = {}  # the subparsers by name

    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the user sees what is wrong at a glance.
        self.exit(2, f"nst: error: {message} (see {self.prog} --help)\n")


def _numbers(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in split_list(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


# How each kind of setting reads its value from the command line (argparse's own messages for
# numbers: "invalid int value").
_TYPES: dict[str, Callable[[str], Any] | None] = {
    "int": int, "float": float, "text": None, "names": split_list, "numbers": _numbers,
}  # fmt: skip
_METAVARS = {"int": "N", "float": "X"}

# The front ends' own settings, declared as the run's are (nst.options.Setting): the command line's
# flags and docs/options.md are made from them. Each command's list is in the order --help shows.
_OUTPUT = Setting(
    "output",
    "result file, .png .jpg .webp, or .tif (16-bit, for print) (default PHOTO-PAINTING.png here)",
    flags=("-o", "--output"),
    details="The format follows the extension. PNGs and TIFFs carry every setting as metadata (`nst:params`):"
    " `nst reproduce` reads them. See [print](print.md#print-files).",
)
_REPORT = Setting(
    "report",
    "also write a JSON report: settings, losses, timings",
    metavar="PATH",
    details="`params` (every setting, library versions), `history` (the losses every 10 steps from"
    " step 0, with `elapsed_s`), `final` (`total`, `content`, `style`, `tv` and the picture measures),"
    " `wall_s`.",
)
_OVERWRITE = Setting(
    "overwrite",
    "replace the output file if it exists",
    "flag",
    False,
    details="Without it an existing file is refused before the run.",
)
_QUIET = Setting("quiet", "no progress bar and no summary line", "flag", False, flags=("-q", "--quiet"))
_PRESET = Setting(
    "preset",
    "start from named settings ('spec': the spec's plain Adam loop, 1000 steps; 'classic': nst 0.2's default)",
    choices=tuple(PRESETS),
    details="Explicit options override the preset's. `classic` is the default of nst 0.2 (the spec's objective by"
    " L-BFGS, 100 steps at the output size alone): see [quality](quality.md).",
)
# Beside the output of a run on workers: the run so far, which the same command goes on from.
CHECKPOINT_SUFFIX = ".checkpoint.npz"
# Where work runs on Ray (docs/cluster.md): a batch's pictures, a print's tiles.
_RAY = (
    Setting(
        "address",
        "join a Ray cluster (default: start a local Ray instance)",
        group="Ray",
        metavar="auto|ray://HOST:10001",
    ),
    Setting(
        "workers",
        "run the tiles of every tiled size on N Ray workers, on a local Ray instance unless --address (default:"
        " in this process; with --address, as many as the cluster's CPUs or GPUs hold); the run keeps a"
        " checkpoint beside the output, and the same command goes on from it",
        "int",
        group="Ray",
    ),
    Setting("cpus_per_worker", "CPUs (and compute threads) each worker takes", "float", 1.0, "Ray", metavar="N"),
    Setting(
        "gpus_per_worker",
        "GPUs each worker takes (default: 1 on a cluster with GPUs, a worker on each; 0 without)",
        "float",
        group="Ray",
        metavar="N",
    ),
)


def replace_help(settings: tuple[Setting, ...], **helps: str) -> tuple[Setting, ...]:
    """``settings`` with the help of those named in ``helps`` replaced."""
    return tuple(replace(setting, help=helps[setting.name]) if setting.name in helps else setting
                 for setting in settings)  # fmt: skip


STYLIZE_SETTINGS = (
    _OUTPUT,
    _REPORT,
    _OVERWRITE,
    Setting("save_every", "also save every N-th step as OUTPUT-0010.png etc.", "int"),
    Setting("animation", "also write an animation of the picture forming: .gif, .webp or .mp4", metavar="PATH"),
    _QUIET,
    _PRESET,
    *_RAY,
)
SCORE_SETTINGS = (Setting("json", "print JSON: every loss and measure, as listed below", "flag", False),)
REPRODUCE_SETTINGS = (
    replace(_OUTPUT, help="result file (default IMAGE-reproduced, in IMAGE's format)", details=""),
    _OVERWRITE,
    replace(_REPORT, help="also write a JSON report", details=""),
    _QUIET,
)
SERVE_SETTINGS = (
    Setting(
        "host",
        "address to listen on (127.0.0.1: this machine only; anything else lets others on the network use it)",
        default="127.0.0.1",
    ),
    Setting("port", "port to listen on (0: any free one)", "int", 8000),
    Setting("max_upload_mb", "largest image file accepted", "float", WebConfig.max_upload_mb, metavar="MB"),
    Setting(
        "max_pixels",
        "largest image accepted, in millions of pixels",
        "float",
        WebConfig.max_pixels / 1e6,
        metavar="MILLIONS",
    ),
    Setting(
        "max_size",
        "largest --size a run may ask for (default: the largest that fits in memory, in tiles where need be)",
        "int",
        WebConfig.max_size,
    ),
    *replace_help(_RAY, workers="run the tiles of every tiled size on N Ray workers (default: in this process)"),
)
BATCH_SETTINGS = (
    Setting("output", "folder for the pictures", flags=("-o", "--output"), metavar="OUTDIR", required=True),
    Setting("overwrite", "redo pictures that exist (otherwise skipped)", "flag", False),
    replace(_QUIET, help="no progress bar and no line per picture"),
    replace(_PRESET, help="start from named settings (see nst --help)"),
    *replace_help(_RAY, workers="workers (default: as many as the CPUs or GPUs hold)"),
)
VIDEO_SETTINGS = (
    Setting(
        "output",
        "OUT.mp4 (H.264, with the clip's audio), .gif, .webp, or a folder for PNG frames (a name without a suffix)",
        flags=("-o", "--output"),
        required=True,
    ),
    Setting("overwrite", "start again: replace the output and its frames", "flag", False),
    _QUIET,
    Setting("first_steps", "steps of the first frame, which starts from its photo", "int", video.FIRST_STEPS, "video"),
    Setting(
        "temporal_weight",
        "weight of the temporal loss (default: 1e3, or 2e10 with --normalization mean or sum); 0: warm start only",
        "float",
        None,
        "video",
    ),
    Setting(
        "warm_start",
        "start each frame from the previous one warped along the flow (--no-warm-start: each alone)",
        "switch",
        True,
        "video",
    ),
    Setting("flow", "optical flow: OpenCV's 'dis' or 'farneback'", default="dis", group="video", choices=FLOW_METHODS),
    Setting("frames", "the clip's first N frames only", "int", group="video"),
    Setting(
        "fps",
        f"frame rate of the output (default the clip's; a folder of frames: {FOLDER_FPS:g})",
        "float",
        group="video",
    ),
    Setting("max_time", "refuse a clip estimated to take longer", "float", group="video", metavar="MINUTES"),
)


@dataclass(frozen=True)
class Command:
    """A subcommand of ``nst``: how it is introduced, its inputs (positional files, and files given
    by flags), its own settings, and its defaults where they differ from :class:`Options`'. The run
    settings it takes are those whose declaration names it (``Setting.commands``)."""

    name: str
    synopsis: str  # for docs/options.md; argparse writes --help's usage line itself
    summary: str
    description: str
    run: Callable[[argparse.Namespace], int]
    inputs: Callable[[argparse.ArgumentParser], None]
    settings: tuple[Setting, ...]
    epilog: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def prog(self) -> str:
        return "nst" if self.name == STYLIZE else f"nst {self.name}"

    def run_settings(self) -> list[Setting]:
        return [setting for setting in SETTINGS.values() if self.name in setting.commands]

    def add_arguments(self, parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        """The command's arguments on ``parser``: its inputs, then its settings under their groups."""
        parser.description, parser.epilog = self.description, self.epilog
        self.inputs(parser)
        groups: dict[str | None, Any] = {None: parser}
        for setting in [*self.settings, *self.run_settings()]:
            if setting.group not in groups:
                groups[setting.group] = parser.add_argument_group(setting.group)
            _add_setting(groups[setting.group], setting, self.defaults.get(setting.name, setting.default))
        parser.set_defaults(run=self.run)
        return parser


def _add_setting(group: Any, setting: Setting, default: Any) -> None:
    """The flag of one setting, its default shown in its help."""
    flags = setting.flags or (setting.flag,)
    if setting.kind == "flag":
        group.add_argument(*flags, dest=setting.name, action="store_true", help=setting.help)
        return
    help = setting.help if default is None else f"{setting.help} (default {setting.shown(default)})"
    if setting.kind == "switch":
        group.add_argument(*flags, dest=setting.name, default=default, help=help,
                           action=argparse.BooleanOptionalAction)  # fmt: skip
        return
    metavar = setting.metavar or (None if setting.choices else _METAVARS.get(setting.kind))
    group.add_argument(
        *flags, dest=setting.name, default=default, help=help, type=_TYPES[setting.kind], choices=setting.choices,
        required=setting.required, metavar=metavar,
    )  # fmt: skip


def _stylize_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("content", help="the photo (any image Pillow reads)")
    parser.add_argument("style", nargs="+", help="the painting to take the style from; several are blended")
    parser.add_argument("--version", action="version", version=f"nst {__version__}")


def _score_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", help="the image to score (e.g. a result)")
    parser.add_argument("--content", required=True, metavar="PHOTO", help="the photo")
    parser.add_argument("--style", required=True, nargs="+", metavar="PAINTING", help="the painting (or several)")


def _reproduce_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("image", help="a PNG or TIFF written by nst")
    parser.add_argument("--content", metavar="PHOTO", help="the photo, if it is no longer where the run read it")
    parser.add_argument("--style", nargs="+", metavar="PAINTING", help="the painting(s), likewise")


def _batch_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("photos", nargs="+", metavar="PHOTOS", help="photo files, folders of them, or globs")
    parser.add_argument("--style", action="append", required=True, metavar="PAINTING",
                        help="a painting; repeat for several (each its own pictures unless --style-blend)")  # fmt: skip


def _video_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("clip", help="MP4, MOV, WebM, GIF, animated WebP, or a folder of numbered frames")
    parser.add_argument("style", nargs="+", help="the painting to take the style from; several are blended")


def _no_inputs(parser: argparse.ArgumentParser) -> None:
    pass


@functools.cache
def commands() -> dict[str, Command]:
    """The subcommands by name; ``stylize`` is what ``nst PHOTO PAINTING`` runs."""
    listed = [
        Command(
            STYLIZE,
            synopsis="nst PHOTO PAINTING... [-o OUT]",
            summary="a photo in the style of a painting",
            description="Repaint a photo in the style of a painting (neural style transfer, Gatys et al.). 'nst"
            " score --help': score an image; 'nst reproduce --help': run again from a PNG's parameters; 'nst serve"
            " --help': the same in a web browser.",
            epilog=f"VGG19 weights: --weights PATH, else ${WEIGHTS_ENV}, else Keras downloads the ImageNet weights"
            " once.",
            run=_stylize,
            inputs=_stylize_inputs,
            settings=STYLIZE_SETTINGS,
        ),
        Command(
            SCORE,
            synopsis="nst score IMAGE --content PHOTO --style PAINTING... [--json]",
            summary="an image's losses and picture measures",
            description="Print the losses of IMAGE under the given loss settings, and its picture measures: "
            + "; ".join(f"{name}: {meaning}" for name, meaning in MEANINGS.items())
            + ".",
            run=_score,
            inputs=_score_inputs,
            settings=SCORE_SETTINGS,
            defaults={"size": None},  # the image's own size, so that a result is scored as it is
        ),
        Command(
            REPRODUCE,
            synopsis="nst reproduce OUT.png [-o AGAIN.png]",
            summary="the same picture again, from the parameters in its PNG",
            description="Run again the run that made IMAGE, from the parameters nst stored in it (PNGs nst wrote).",
            run=_reproduce,
            inputs=_reproduce_inputs,
            settings=REPRODUCE_SETTINGS,
        ),
        Command(
            SERVE,
            synopsis="nst serve [--host 127.0.0.1] [--port 8000]",
            summary="the web app",
            description="Style transfer in a web browser: pick a photo and paintings, watch the picture form,"
            " download it. One run at a time; the others wait in line.",
            run=_serve,
            inputs=_no_inputs,
            settings=SERVE_SETTINGS,
        ),
        Command(
            BATCH,
            synopsis="nst batch PHOTOS... --style PAINTING -o OUTDIR",
            summary="many pictures, on Ray (local or a cluster)",
            description="Stylize many photos: each with each painting (or with their blend, given --style-blend), on"
            " Ray: a local instance by default, or a cluster (--address). Writes OUTDIR/PHOTO-PAINTING.png, its"
            " report (.json) and OUTDIR/summary.json; a second run skips the pictures already made with the same"
            " settings.",
            epilog="Needs Ray: pip install 'nst[cluster]'. Exit code 0: every item done or skipped; 1: some failed.",
            run=_batch,
            inputs=_batch_inputs,
            settings=BATCH_SETTINGS,
        ),
        Command(
            VIDEO,
            synopsis="nst video CLIP PAINTING... -o OUT.mp4",
            summary="a video clip, frame by frame without flicker",
            description="Stylize a video clip frame by frame without flicker (Ruder et al. 2016): each frame after"
            " the first starts from the previous stylized frame carried along the optical flow and is held close to"
            " it. Finished frames are kept as they finish (in OUT.frames/ until the video is written): the same"
            " command again continues at the first missing frame.",
            epilog="Needs imageio-ffmpeg and OpenCV: pip install 'nst[video]'. --steps and --time-budget are per"
            " frame.",
            run=_video,
            inputs=_video_inputs,
            settings=VIDEO_SETTINGS,
            # A clip has many frames: smaller frames and fewer steps than a picture's defaults.
            defaults={name: getattr(video.VIDEO_DEFAULTS, name) for name in ("size", "steps", "jit_compile")},
        ),
    ]
    return {command.name: command for command in listed}


def build_parser() -> _Parser:
    """The ``nst`` command: each command an argparse subparser, chosen by its name."""
    parser = _Parser(prog="nst")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in commands().values():
        parser.commands[command.name] = command.add_arguments(subparsers.add_parser(command.name, prog=command.prog))
    return parser


def options_from(args: argparse.Namespace) -> Options:
    """The library options the parsed arguments describe."""
    return Options(**{name: getattr(args, name) for name in SETTINGS if hasattr(args, name)})


def parse(argv: Sequence[str]) -> tuple[Callable[[argparse.Namespace], int], argparse.Namespace]:
    """The command to run and its arguments. A first word that names no command is the photo of
    ``nst PHOTO PAINTING``. A preset's values become the defaults that explicit flags override."""
    parser = build_parser()
    if not argv or argv[0] not in commands():
        argv = [STYLIZE, *argv]
    args = _parse(parser, argv)
    if getattr(args, "preset", None):
        parser.commands[args.command].set_defaults(**PRESETS[args.preset])
        args = _parse(parser, argv)
    return args.run, args


def _parse(parser: _Parser, argv: Sequence[str]) -> argparse.Namespace:
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the command's own parser, which names its own --help
        parser.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    if getattr(args, "print", None) is not None and _given(parser, argv, args.command, "size"):
        parser.commands[args.command].error("--print sets the size from --dpi: give --print or --size, not both")
    return args


def _given(parser: _Parser, argv: Sequence[str], command: str, name: str) -> bool:
    """Whether the setting ``name`` was given in ``argv``, not left at its default: parsed again
    with no default for it."""
    subparser = parser.commands[command]
    default = subparser.get_default(name)
    subparser.set_defaults(**{name: None})
    given = getattr(parser.parse_known_args(argv)[0], name) is not None
    subparser.set_defaults(**{name: default})
    return given


def main(argv: Sequence[str] | None = None) -> int:
    """The command: its exit code. Warnings are shown as one-line notes while it runs, and as they
    were after, so that a program (or a test) may call it in its own process."""
    shown, warnings.showwarning = warnings.showwarning, _show_note
    try:
        command, args = parse(sys.argv[1:] if argv is None else list(argv))
        return command(args)
    except NstError as error:
        print(f"nst: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nst: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = shown


def _stylize(args: argparse.Namespace) -> int:
    options = options_from(args)
    output = Path(args.output or output_name(args.content, args.style))
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
    cluster = _workers(args) if args.workers is not None or args.address is not None else None
    kept = None  # on workers, a checkpoint beside the output unless one is named: the same command goes on from it
    if cluster is not None and not cluster.local and options.checkpoint is None and not options.fast:
        kept = output.with_name(output.name + CHECKPOINT_SUFFIX)
        options = replace(
            options, checkpoint=str(kept), resume=options.resume or (str(kept) if kept.exists() else None)
        )
    if options.checkpoint:
        check_writable(options.checkpoint, "the checkpoint")
    if options.resume:
        load_checkpoint(options.resume)
        if kept is not None and options.resume == str(kept) and not args.quiet:
            print(f"nst: going on from {kept}", file=sys.stderr)
    if options.fast:
        return _stylize_fast(args, options, output)
    snapshots = Snapshots(output, args.save_every, args.animation, steps=sum(options.steps_per_size()))
    stylize = load_run().stylize

    show_progress = not args.quiet and sys.stderr.isatty()
    on = (
        ""
        if cluster is None or cluster.local
        else f", tiles on {_count(cluster.count, 'Ray worker')}"
        if cluster.count
        else ", tiles on Ray"
    )
    with _progress_bar(options, enabled=show_progress, on=on) as progress_bar:

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
                result = stylize(args.content, args.style, options, callback=callback, on_tile=on_tile,
                                 cluster=cluster)  # fmt: skip
        except WorkersLost as lost:
            raise NstError(f"{lost}; the same command goes on from it" if kept else str(lost)) from None
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
    if kept is not None:
        kept.unlink(missing_ok=True)  # the picture is made: nothing to go on from
    if args.report:
        result.save_report(args.report)
    if not args.quiet:
        width, height = result.report["params"]["output_size"]
        steps = sum(result.report["steps_per_scale"])
        print(f"wrote {output} ({width}x{height}, {steps} steps, {duration(result.report['wall_s'])})")
    return 0


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
    arguments = {
        **vars(Options.for_reproduction(params)),
        "content": args.content or params["content"],
        "style": args.style or stored_style,
        "output": args.output or str(image.with_name(f"{image.stem}-reproduced{image.suffix}")),
        "report": args.report,
        "quiet": args.quiet,
        "save_every": None,
        "animation": None,
        "overwrite": args.overwrite,
    }
    return _stylize(argparse.Namespace(**arguments))


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


def _workers(args: argparse.Namespace) -> Workers:
    """The Ray workers a command's settings ask for (batch: always; stylize and serve: a tiled size's tiles)."""
    return Workers(args.address, args.workers, args.cpus_per_worker, args.gpus_per_worker)


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
    stylize = load_run().stylize
    with contextlib.ExitStack() as stack:
        stack.enter_context(contextlib.suppress(KeyboardInterrupt))  # Ctrl-C is how a server is meant to stop
        where = device()
        if args.workers is not None or args.address is not None:  # started once: every job's tiles run on them
            from nst.run.tile_workers import TileWorkers

            workers = stack.enter_context(TileWorkers(_workers(args), Options().resolved_weights()))
            stylize, where = (
                functools.partial(stylize, cluster=workers),
                f"{where}, tiles on {_count(workers.stats.workers, 'Ray worker')}",
            )
        web.serve(listener, config, stylize, device=where)
    return 0


def _batch(args: argparse.Namespace) -> int:
    # Ray loads only for this command, when an item is left to run; Keras and its backend only in the workers.
    from nst.apps import batch

    workers = _workers(args)
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
        print(f"{counts} in {duration(summary.wall_s)}{on}; summary in {where}")
    return 1 if summary.failed else 0


def _video(args: argparse.Namespace) -> int:
    options = options_from(args)
    max_time = None if args.max_time is None else args.max_time * 60
    with _video_progress(args.quiet) as progress, StopRequests() as stop_requests:  # `kill` keeps frames as Ctrl-C

        def callback(step) -> None:
            stop_requests.check()
            if progress is not None:
                progress(step)

        hide_tensorflow_warnings()  # as for a picture; the clip's checks come before TensorFlow loads
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
              f"{made} made in {duration(result.wall_s)}{pace})")  # fmt: skip
    return 0


@contextlib.contextmanager
def _terminal_bar(enabled: bool, counted: str, **settings: Any) -> Iterator[Any]:
    """A tqdm bar on stderr of ``counted`` things ("steps", "frames"), that shows the run's own time
    left (in its postfix, nst.run.progress), not tqdm's guess."""
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    shape = f"{{l_bar}}{{bar}}| {{n_fmt}}/{{total_fmt}} {counted} [{{elapsed}}{{postfix}}]"
    with tqdm(dynamic_ncols=True, file=sys.stderr, bar_format=shape, **settings) as bar:
        yield bar


def _left(remaining_s: float | None) -> str:
    """The time left as the bars show it: the run's own estimate (nst.run.progress)."""
    return "" if remaining_s is None else f"{duration(remaining_s)} left"


def _joined(*parts: str) -> str:
    return ", ".join(part for part in parts if part)


@contextlib.contextmanager
def _video_progress(quiet: bool) -> Iterator[Callable[[Any], None] | None]:
    """A bar over the frames with the current frame's step and losses and the time left."""
    with _terminal_bar(not quiet and sys.stderr.isatty(), "frames") as bar:
        if bar is None:
            yield None
            return

        def update(progress: VideoProgress) -> None:
            bar.total = progress.frames
            losses = progress.losses
            temporal = f", temporal {losses['temporal']:.3g}" if "temporal" in losses else ""
            at = f"frame {progress.frame}/{progress.frames} step {progress.step.step}"
            shown = f"loss {losses['total']:.3g} (style {losses['style']:.3g}{temporal})"
            bar.set_postfix_str(_joined(f"{at}, {shown}", _left(progress.remaining_s)), refresh=False)
            bar.update(progress.frame - 1 - bar.n)

        yield update


@contextlib.contextmanager
def _batch_progress(quiet: bool) -> Iterator[Callable[[Any], None] | None]:
    """A bar over the items with the time left (on a terminal), and a line for each item."""
    with _terminal_bar(not quiet, "pictures", disable=not sys.stderr.isatty()) as bar:
        if bar is None:
            yield None
            return

        def update(progress: BatchProgress) -> None:
            bar.total = progress.total
            if progress.outcome is None:
                to_make = _count(progress.total - progress.done, "picture")
                bar.write(f"nst batch: {to_make} to make on {_count(progress.workers, 'worker')}", file=sys.stderr)
            else:
                bar.write(_item_line(progress.outcome), file=sys.stderr)
            bar.set_postfix_str(_left(progress.remaining_s), refresh=False)
            bar.update(progress.done - bar.n)

        yield update


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def _item_line(outcome) -> str:
    painting = " + ".join(outcome.painting) if isinstance(outcome.painting, list) else outcome.painting
    if outcome.status == "failed":
        return f"failed  {outcome.input} with {painting}: {outcome.error}"
    seconds = f" ({duration(outcome.seconds)})" if outcome.seconds is not None else ""
    return f"{outcome.status:<7} {outcome.output}{seconds}"


@contextlib.contextmanager
def _progress_bar(options: Options, enabled: bool, on: str = "") -> Iterator[ProgressBar | None]:
    """A bar of steps, or of seconds under a time budget or over several sizes (whose steps
    differ in cost), with the losses, the size and tile at work, and the time left."""
    in_seconds = options.time_budget is not None or len(options.scale_sizes()) > 1
    # Over several sizes, the seconds they take are known once the first steps are measured.
    total = round(options.time_budget) if options.time_budget else None if in_seconds else options.output_steps()
    with _terminal_bar(enabled, "s" if in_seconds else "steps", total=total) as bar:
        yield None if bar is None else ProgressBar(bar, in_seconds, options.scale_sizes(), lambda: device() + on)


def device() -> str:
    """Where runs happen, as the progress bar and the web page say it: "CPU", "GPU (NVIDIA H200)";
    and the backend unless it is TensorFlow."""
    from nst.core import backend

    name = backend.name()
    return backend.device() + ("" if name == "tensorflow" else f", {name}")


class ProgressBar:
    """The terminal's bar of a picture's run, moved by its :class:`Progress` after each step and
    by its tiles (a step at a print's size is long); the time left is the progress's own."""

    def __init__(self, bar: Any, in_seconds: bool, sizes: list[int], device: Callable[[], str] = device) -> None:
        self.bar, self.in_seconds, self.sizes, self.device = bar, in_seconds, sizes, device
        self.started = time.monotonic()
        self.losses = self.left = ""
        self.remaining_s, self.measured_at = None, self.started  # the last step's estimate of the time left

    def __call__(self, progress: Progress) -> None:
        self.describe()
        losses = progress.losses
        self.losses = f"loss {losses['total']:.3g} (content {losses['content']:.3g}, style {losses['style']:.3g})"
        self.remaining_s, self.measured_at = progress.remaining_s, time.monotonic()
        self.left = _left(progress.remaining_s)
        self.show(progress.scale, "")
        if self.in_seconds:
            self.bar.total = max(self.bar.n, round(progress.elapsed_s + (progress.remaining_s or 0.0)))
            self.bar.update(round(progress.elapsed_s) - self.bar.n)
        else:
            self.bar.update(progress.step - self.bar.n)

    def tile(self, size: int, done: int, tiles: int) -> None:
        """A tile of a step is done: a step at a print's size is long, so the bar moves with its tiles."""
        self.describe()
        self.left = _left(left_now(self.remaining_s, self.measured_at, time.monotonic()))
        self.show(size, f"tile pass {done}/{tiles}")
        if self.in_seconds and self.bar.total:
            self.bar.update(min(self.bar.total, round(time.monotonic() - self.started)) - self.bar.n)
        else:
            self.bar.refresh()

    def describe(self) -> None:
        if not self.bar.desc:
            self.bar.set_description_str(self.device(), refresh=False)

    def show(self, size: int, tile: str) -> None:
        at = f"{self.sizes[size - 1]} px ({size}/{len(self.sizes)})" if len(self.sizes) > 1 else ""
        self.bar.set_postfix_str(_joined(at, tile, self.losses, self.left), refresh=False)


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
