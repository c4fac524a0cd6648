"""The ``nst`` command line: its subcommands (:class:`Command`: inputs, own settings, defaults, the
handler that runs it), each an argparse subparser whose flags are made from the settings'
declarations, and :func:`parse`, which picks the command and applies a preset."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from nst import __version__
from nst.apps.cli.handlers import _batch, _score, _serve, _video
from nst.apps.cli.picture import _reproduce, _stylize
from nst.apps.cli.settings import (
    BATCH_SETTINGS,
    REPRODUCE_SETTINGS,
    SCORE_SETTINGS,
    SERVE_SETTINGS,
    STYLIZE_SETTINGS,
    VIDEO_SETTINGS,
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
    Setting,
    split_list,
)
from nst.run import video  # no TensorFlow: its defaults (the run loads when a clip starts)


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


# The subcommands, in the order docs/options.md lists them.
_COMMANDS = (
    Command(
        STYLIZE,
        synopsis="nst PHOTO PAINTING... [-o OUT]",
        summary="a photo in the style of a painting",
        description="Repaint a photo in the style of a painting (neural style transfer, Gatys et al.). 'nst"
        " score --help': score an image; 'nst reproduce --help': run again from a PNG's parameters; 'nst serve"
        " --help': the same in a web browser.",
        epilog=f"VGG19 weights: --weights PATH, else ${WEIGHTS_ENV}, else Keras downloads the ImageNet weights once.",
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
        epilog="Needs imageio-ffmpeg and OpenCV: pip install 'nst[video]'. --steps and --time-budget are per frame.",
        run=_video,
        inputs=_video_inputs,
        settings=VIDEO_SETTINGS,
        # A clip has many frames: smaller frames and fewer steps than a picture's defaults.
        defaults={name: getattr(video.VIDEO_DEFAULTS, name) for name in ("size", "steps", "jit_compile")},
    ),
)


@functools.cache
def commands() -> dict[str, Command]:
    """The subcommands by name; ``stylize`` is what ``nst PHOTO PAINTING`` runs."""
    return {command.name: command for command in _COMMANDS}


class _NoCommand(Exception):
    """The first word names no command: ``nst PHOTO PAINTING`` (or ``nst --help``) is stylize."""


class _Root(_Parser):
    """The parser of the command's first word. argparse says when it names no command (missing,
    or not one of them); that is the default command's cue, so it raises rather than exits. Its
    --help is stylize's (``nst --help``), so it takes none of its own."""

    def __init__(self) -> None:
        super().__init__(prog="nst", add_help=False)

    def error(self, message: str) -> NoReturn:
        raise _NoCommand(message)


def build_parser() -> _Parser:
    """The ``nst`` command: each command an argparse subparser, chosen by its name."""
    parser = _Root()
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in commands().values():
        parser.commands[command.name] = command.add_arguments(subparsers.add_parser(command.name, prog=command.prog))
    return parser


def parse(argv: Sequence[str]) -> tuple[Callable[[argparse.Namespace], int], argparse.Namespace]:
    """The command to run and its arguments. A first word that names no command is the photo of
    ``nst PHOTO PAINTING``. A preset's values become the defaults that explicit flags override."""
    parser = build_parser()
    try:
        args = _parse(parser, argv)
    except _NoCommand:  # argparse found no command's name first: the default command's arguments
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
