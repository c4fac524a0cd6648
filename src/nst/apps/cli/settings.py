"""The ``nst`` command's own settings (an output path, a Ray address...), declared as the run's are
(:class:`nst.options.Setting`), one list per command: the flags and docs/options.md are made from
them. And :func:`options_from`, the library's :class:`~nst.options.Options` a parsed command line
describes, and :func:`workers_from`, the Ray workers it asks for."""

from __future__ import annotations

import argparse
from dataclasses import replace

from nst.apps.web.config import WebConfig
from nst.media.clips import FOLDER_FPS
from nst.media.flow import FLOW_METHODS
from nst.options import PRESETS, SETTINGS, Options, Setting
from nst.run import video  # no TensorFlow: its defaults (the run loads when a clip starts)
from nst.run.cluster import Workers

# Each command's list is in the order --help shows.
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
    Setting(
        "abandon_after",
        "cancel a run whose page has been closed this long, waiting or running, so that a closed tab frees the worker",
        "float",
        WebConfig.abandon_after_s,
        metavar="SECONDS",
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


def options_from(args: argparse.Namespace) -> Options:
    """The library options the parsed arguments describe."""
    return Options(**{name: getattr(args, name) for name in SETTINGS if hasattr(args, name)})


def workers_from(args: argparse.Namespace) -> Workers:
    """The Ray workers a command's settings ask for (batch: always; stylize and serve: a tiled size's tiles)."""
    return Workers(args.address, args.workers, args.cpus_per_worker, args.gpus_per_worker)


def tile_workers_from(args: argparse.Namespace) -> Workers | None:
    """Where stylize's and serve's tiles run: the workers asked for, or None (this process) where
    neither --workers nor --address is given."""
    return None if args.workers is None and args.address is None else workers_from(args)
