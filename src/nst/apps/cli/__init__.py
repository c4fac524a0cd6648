"""The ``nst`` command: a thin layer over :mod:`nst` for people at a terminal.

nst PHOTO PAINTING [-o OUT] [options]          stylize
nst score IMAGE --content PHOTO --style PAINTING [--json]
nst reproduce OUT.png [-o AGAIN.png]
nst serve [--host 127.0.0.1] [--port 8000]     the web app
nst batch PHOTOS... --style PAINTING -o OUTDIR  many pictures, on Ray (local or a cluster)
nst video CLIP PAINTING... -o OUT.mp4          a video clip, frame by frame without flicker

The command's own settings are declared in :mod:`~nst.apps.cli.settings`, its subcommands and
their flags in :mod:`~nst.apps.cli.parser`, what each does in :mod:`~nst.apps.cli.picture` (a
picture's) and :mod:`~nst.apps.cli.handlers` (the others'), and what it shows at the terminal in
:mod:`~nst.apps.cli.terminal`.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence

from nst.apps.cli.parser import Command, build_parser, commands, parse
from nst.apps.cli.settings import (
    BATCH_SETTINGS,
    CHECKPOINT_SUFFIX,
    REPRODUCE_SETTINGS,
    SCORE_SETTINGS,
    SERVE_SETTINGS,
    STYLIZE_SETTINGS,
    VIDEO_SETTINGS,
    options_from,
    replace_help,
)
from nst.apps.cli.terminal import ProgressBar, StopRequests, device, show_note
from nst.errors import NstError

__all__ = [
    "BATCH_SETTINGS",
    "CHECKPOINT_SUFFIX",
    "REPRODUCE_SETTINGS",
    "SCORE_SETTINGS",
    "SERVE_SETTINGS",
    "STYLIZE_SETTINGS",
    "VIDEO_SETTINGS",
    "Command",
    "ProgressBar",
    "StopRequests",
    "build_parser",
    "commands",
    "device",
    "main",
    "options_from",
    "parse",
    "replace_help",
]


def main(argv: Sequence[str] | None = None) -> int:
    """The command: its exit code. Warnings are shown as one-line notes while it runs, and as they
    were after, so that a program (or a test) may call it in its own process."""
    shown, warnings.showwarning = warnings.showwarning, show_note
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
