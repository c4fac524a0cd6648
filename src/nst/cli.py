"""The ``nst`` command: a thin layer over :func:`nst.stylize` for people at a terminal."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from nst import __version__
from nst.errors import NstError
from nst.images import check_output_path, load_image
from nst.options import INITS, NORMALIZATIONS, WEIGHTS_ENV, Options

DEFAULTS = Options()


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the user sees what is wrong at a glance.
        self.exit(2, f"nst: error: {message} (see nst --help)\n")


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _numbers(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in _names(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _option(group, name: str, help: str, **kwargs) -> None:
    """A flag for the Options field ``name``, with the field's default shown in the help."""
    default = getattr(DEFAULTS, name)
    shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
    suffix = f" (default {shown})" if default is not None else ""
    kwargs.setdefault("metavar", "N" if kwargs.get("type") is int else "X")
    group.add_argument(f"--{name.replace('_', '-')}", dest=name, default=default, help=help + suffix, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="nst",
        description="Repaint a photo in the style of a painting (neural style transfer, Gatys et al.).",
        epilog=f"VGG19 weights: --weights PATH, else ${WEIGHTS_ENV}, else Keras downloads the ImageNet weights once.",
    )
    parser.add_argument("content", help="the photo (any image Pillow reads)")
    parser.add_argument("style", help="the painting whose style to take")
    parser.add_argument("-o", "--output", help="result file, .png .jpg or .webp (default CONTENT-STYLE.png here)")
    parser.add_argument("--report", metavar="PATH", help="also write a JSON report: settings, losses, timings")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no summary line")
    parser.add_argument("--version", action="version", version=f"nst {__version__}")

    sizes = parser.add_argument_group("image sizes")
    _option(sizes, "size", "longer side of the output in pixels", type=int)
    _option(sizes, "style_size", "longer side the painting is resized to (default: --size)", type=int)

    loss = parser.add_argument_group("losses")
    _option(loss, "content_weight", "alpha, weight of the content loss", type=float)
    _option(loss, "style_weight", "beta, weight of the style loss", type=float)
    _option(loss, "tv_weight", "weight of total-variation smoothing", type=float)
    _option(
        loss, "normalization", "'mean' (the TensorFlow tutorial's; balance kept across sizes) or 'sum' (the spec's)",
        choices=NORMALIZATIONS, metavar="{mean,sum}",
    )  # fmt: skip
    _option(loss, "content_layers", "VGG19 layers for content", type=_names, metavar="L1,L2")
    _option(loss, "style_layers", "VGG19 layers for style", type=_names, metavar="L1,L2")
    _option(loss, "style_layer_weights", "one weight per style layer (default 1 each)", type=_numbers, metavar="W1,W2")

    optimizer = parser.add_argument_group("optimisation (Adam)")
    _option(optimizer, "steps", "number of optimisation steps", type=int)
    _option(optimizer, "learning_rate", "Adam's learning rate", type=float)
    _option(optimizer, "beta_1", "Adam's beta_1", type=float)
    _option(optimizer, "epsilon", "Adam's epsilon", type=float)
    _option(optimizer, "init", "start from the photo or from noise", choices=INITS, metavar="{content,noise}")
    _option(optimizer, "seed", "random seed, makes --init noise repeatable", type=int)
    _option(optimizer, "weights", f"Keras VGG19 weights file (default ${WEIGHTS_ENV}, else imagenet)", metavar="PATH")
    return parser


def options_from(args: argparse.Namespace) -> Options:
    """The library options the parsed arguments describe."""
    fields = Options.__dataclass_fields__
    return Options(**{name: getattr(args, name) for name in fields if hasattr(args, name)})


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except NstError as error:
        print(f"nst: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nst: interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    options = options_from(args)
    output = Path(args.output or f"{Path(args.content).stem}-{Path(args.style).stem}.png")
    # Everything a person can get wrong is checked before TensorFlow loads and the run starts.
    check_output_path(output)
    if args.report:
        _check_report_path(Path(args.report))
    load_image(args.content, options.size)
    load_image(args.style, options.style_size or options.size)

    with _quiet_stderr():
        import tensorflow as tf

        from nst.optimize import stylize

        tf.config.list_physical_devices()  # looks for CUDA, which logs its absence

    show_progress = not args.quiet and sys.stderr.isatty()
    with _progress_bar(options.steps, enabled=show_progress) as callback:
        result = stylize(args.content, args.style, options, callback=callback)
    result.save(output)
    if args.report:
        result.save_report(args.report)
    if not args.quiet:
        width, height = result.report["params"]["output_size"]
        print(f"wrote {output} ({width}x{height}, {options.steps} steps, {_duration(result.report['wall_s'])})")
    return 0


def _check_report_path(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise NstError(f"{path}: cannot write the report there")


@contextlib.contextmanager
def _progress_bar(steps: int, enabled: bool) -> Iterator[object]:
    if not enabled:
        yield None
        return
    from tqdm import tqdm

    with tqdm(total=steps, unit="step", dynamic_ncols=True, file=sys.stderr) as bar:

        def update(progress) -> None:
            losses = progress.losses
            summary = f"loss {losses['total']:.3g} (content {losses['content']:.3g}, style {losses['style']:.3g})"
            bar.set_postfix_str(summary, refresh=False)
            bar.update(progress.step - bar.n)

        yield update


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """TensorFlow's C++ core writes start-up notices (CUDA, oneDNN) straight to file
    descriptor 2 while it is imported and looks for devices, ignoring TF_CPP_MIN_LOG_LEVEL;
    hide them. NST_DEBUG=1 shows them."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.get("NST_DEBUG"):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}m{seconds:02d}s" if minutes else f"{seconds}s"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
