"""Every setting of a style-transfer run, declared once, with its default and its validation.

Each field of :class:`Options` is declared with its help, choices, the commands that take it and
whether the web form may set it (:func:`setting`); :data:`SETTINGS` reads them back as
:class:`Setting` objects, from which the command line's parsers, the web form's fields and
docs/options.md are made. The front ends' own settings (an output path, a port) are
:class:`Setting` objects too, declared beside the command that takes them (:mod:`nst.apps.cli.settings`).

:class:`Options` holds the settings and their checks; what a run plans from them (the ladder of
sizes, each size's steps, where XLA pays) is :mod:`nst.run.ladder`'s.

This module does not import TensorFlow, so the command line can parse and check its
arguments (and answer ``--help``) instantly.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nst.errors import NstError

# Convolution blocks of VGG19 (block number, number of convolutions in it).
_VGG19_BLOCKS = ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4))
VGG19_LAYERS: tuple[str, ...] = tuple(
    name
    for block, convolutions in _VGG19_BLOCKS
    for name in [f"block{block}_conv{i}" for i in range(1, convolutions + 1)] + [f"block{block}_pool"]
)
CONTENT_LAYERS: tuple[str, ...] = ("block5_conv2",)
STYLE_LAYERS: tuple[str, ...] = tuple(f"block{block}_conv1" for block in range(1, 6))
NORMALIZATIONS = ("mean", "sum", "photo")
INITS = ("content", "noise", "style-mean", "fast")  # or the path of an image; "fast": nst[fast]'s picture
PRESERVE_COLORS = ("luminance", "histogram")
# The names a setting may take; the runs keep what each name runs (nst.run.runner.OPTIMIZERS,
# nst.core.preconditioners.PRECONDITIONERS: dicts with exactly these keys, tested).
OPTIMIZER_NAMES = ("lbfgs", "adam")
PRECONDITIONER_NAMES = ("gaussian", "blocks", "none")
VGG_NORMALIZATIONS = ("none", "gatys")
LADDERS = ("painting", "print")
ENLARGEMENTS = ("detail", "bicubic")
# (content_weight, style_weight) unless given, by normalization: the spec's for its forms, and for
# losses relative to the photo's own the balance chosen by the quality panel (docs/quality.md).
LOSS_WEIGHTS = {"mean": (1e4, 1e-2), "sum": (1e4, 1e-2), "photo": (0.4, 1.0)}
# Adam's epsilon unless given, by normalization: negligible beside the gradient in each (the spec's
# 0.1 against 1e4 to 3e6 per pixel in the mean form; the photo form's gradients are 1e-9 of those).
ADAM_EPSILON = {"mean": 0.1, "sum": 0.1, "photo": 1e-9}
WEIGHTS_ENV = "NST_WEIGHTS"
# VGG19 halves the image four times before block5; below this the deepest maps vanish.
MIN_SIDE = 16
# Print files: the resolution written into them unless --dpi says otherwise, and what --print reads.
DEFAULT_DPI = 300
MAX_DPI = 65535  # JPEG's JFIF holds the density in 16 bits
PRINT_UNITS = {"cm": 2.54, "mm": 25.4, "in": 1.0}  # per inch
_PRINT_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(cm|mm|in)\s*", re.IGNORECASE)
# The numbers the ladder is planned by (nst.run.ladder) that the settings' help quotes; the others
# are the ladder's own. A print's ladder starts at the size people look at a picture on a screen.
VIEWING_SIZE = 512
PRINT_STEP_RATIO = 1.8
# The fewest steps a size gets unless told: a print's sizes above the viewing size (each half as many
# as the one before), and the output size unless --steps is given.
FEWEST_DETAIL_STEPS = 10
# Unless --steps is given, the output size's steps: this many at the viewing size, and at other
# sizes as many more or fewer as a step there is cheaper or dearer (by pixels), within bounds:
# the same work, about the same wait, and the same finish at 256 px as at 512 px.
STEPS_AT_VIEWING_SIZE = 14


def keras_backend() -> str:
    """The backend Keras will start with (``KERAS_BACKEND``, else ~/.keras/keras.json, else
    TensorFlow), read as Keras reads it but without importing Keras."""
    if "KERAS_BACKEND" in os.environ:
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


# The commands, as the command line's subparsers name them (``stylize``: ``nst PHOTO PAINTING``),
# and the sets of them that take a group of settings.
STYLIZE, SCORE, REPRODUCE, SERVE, BATCH, VIDEO = "stylize", "score", "reproduce", "serve", "batch", "video"
PICTURE_COMMANDS = (STYLIZE, SCORE, BATCH, VIDEO)  # what the picture is compared with: sizes, losses
RUN_COMMANDS = (STYLIZE, BATCH, VIDEO)  # how it is optimised
# Headings of the command line's help and of docs/options.md.
SIZES, LOSSES, OPTIMISATION, PRINTS = "image sizes", "losses", "optimisation", "prints and textures"
# How a value is read from text (the command line, the web form): a whole number, a number, text,
# comma-separated names, comma-separated numbers, --NAME/--no-NAME, a flag that is on when given.
KINDS = ("int", "float", "text", "names", "numbers", "switch", "flag")
_TRUE, _FALSE = ("1", "true", "on", "yes"), ("0", "false", "off", "no")


@dataclass(frozen=True)
class Setting:
    """One setting, declared once: its name, how it is read, its default, its help, its choices,
    the commands that take it and whether the web form may set it. The command line's parsers
    (:mod:`nst.apps.cli`), the web form's fields (:mod:`nst.apps.web.app`) and docs/options.md
    are all made from these declarations.

    ``name`` is the Python name (an :class:`Options` field, a keyword of :func:`nst.stylize`);
    the command line's flag is ``--name-with-dashes`` unless ``flags`` says otherwise.
    ``details`` are said in docs/options.md only, after ``help``."""

    name: str
    help: str
    kind: str = "text"
    default: Any = None
    group: str | None = None
    commands: tuple[str, ...] = ()
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    web: bool = False
    details: str = ""
    flags: tuple[str, ...] = ()
    required: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"setting {self.name}: kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def flag(self) -> str:
        """The command line's long flag: ``--style-weight`` for ``style_weight``."""
        return "--" + self.name.replace("_", "-")

    @property
    def label(self) -> str:
        """The setting as messages name it: ``style blend`` for ``style_blend``."""
        return self.name.replace("_", " ")

    def from_text(self, text: str) -> Any:
        """The value that ``text`` (from a form) gives; the default when it is empty; NstError
        with one line when it cannot be read."""
        text = text.strip()
        if not text:
            return self.default
        try:
            if self.kind == "int":
                return int(text)
            if self.kind == "float":
                return float(text)
            if self.kind == "names":
                return split_list(text)
            if self.kind == "numbers":
                return tuple(float(part) for part in split_list(text))
        except ValueError:
            what = {"int": "a whole number", "float": "a number"}.get(self.kind, "comma-separated numbers")
            raise NstError(f"{self.label} must be {what}, got {text!r}") from None
        if self.kind in ("switch", "flag"):
            if text.lower() not in _TRUE + _FALSE:
                raise NstError(f"{self.label} must be on or off, got {text!r}")
            return text.lower() in _TRUE
        return text

    def shown(self, value: Any) -> str:
        """A value as the help and docs/options.md write it."""
        if isinstance(value, bool):
            return "on" if value else "off"
        if isinstance(value, tuple):
            return ",".join(map(self.shown, value))
        return f"{value:g}" if isinstance(value, float) else str(value)


def split_list(text: str) -> tuple[str, ...]:
    """The parts of a comma-separated list, stripped, empty ones left out."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def setting(
    default: Any,
    help: str,
    group: str | None,
    commands: tuple[str, ...],
    *,
    kind: str,
    choices: tuple[str, ...] | None = None,
    metavar: str | None = None,
    web: bool = False,
    details: str = "",
) -> Any:
    """An :class:`Options` field and its :class:`Setting`: the declaration of one run setting."""
    declared = {"help": help, "kind": kind, "default": default, "group": group, "commands": commands,
                "choices": choices, "metavar": metavar, "web": web, "details": details}  # fmt: skip
    return dataclasses.field(default=default, metadata={"setting": declared})


@dataclass(frozen=True)
class Options:
    """All settings of a run. The defaults are the measured ones described in docs/quality.md;
    each field's help, choices and commands are declared with it (:func:`setting`), and
    :data:`SETTINGS` reads them back. docs/options.md lists them all.

    Loss weights: ``content_weight`` is the spec's alpha, ``style_weight`` its beta. Unless given,
    they are the measured ones for ``normalization`` (:data:`LOSS_WEIGHTS`): the spec's 1e4 and
    1e-2 for its "mean" and "sum" forms (with ``vgg_normalization="gatys"`` about 1e6 and 5e6,
    see docs/quality.md); for "photo", where each loss is a fraction of the photo's own, the
    balance chosen in docs/quality.md.
    ``normalization`` chooses how the losses are scaled ("mean": the TensorFlow tutorial's
    means, whose balance does not change with resolution; "sum": the spec's sums as written;
    "photo": each term relative to the photo's own); see :mod:`nst.core.losses`.
    """

    size: int = setting(
        512,
        "longer side of the output in pixels",
        SIZES,
        PICTURE_COMMANDS,
        kind="int",
        web=True,
        details="The photo is resized to it, its aspect kept.",
    )
    style_size: int | None = setting(
        None, "longer side the painting is resized to (default: --size)", SIZES, PICTURE_COMMANDS, kind="int"
    )
    style_scale: float = setting(
        1.0,
        "resize the painting by this: > 1 bigger strokes, < 1 finer texture",
        SIZES,
        PICTURE_COMMANDS,
        kind="float",
        web=True,
        details="See [control](control.md).",
    )
    style_blend: tuple[float, ...] | None = setting(
        None,
        "one weight per painting, normalised to sum 1 (default equal)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="numbers",
        metavar="W1,W2",
        web=True,
        details="With several paintings (`nst photo.jpg a.jpg b.jpg`).",
    )
    preserve_colors: str | None = setting(
        None,
        "keep the photo's colours: 'luminance' (transfer on luminance only) or 'histogram' (the painting's"
        " colours matched to the photo's first)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="text",
        choices=PRESERVE_COLORS,
        metavar="{luminance,histogram}",
        web=True,
        details="See [control](control.md).",
    )
    mask: str | None = setting(
        None,
        "image: white = stylize, black = keep the photo, grey in between",
        LOSSES,
        PICTURE_COMMANDS,
        kind="text",
        metavar="PATH",
        details="Any size: it is stretched to the output.",
    )
    style_masks: tuple[str, ...] | None = setting(
        None,
        "one mask image per painting: each region takes its own painting's style",
        LOSSES,
        PICTURE_COMMANDS,
        kind="names",
        metavar="M1,M2",
    )
    optimizer: str = setting(
        "lbfgs",
        "'lbfgs' (L-BFGS, bounded to [0, 1]) or 'adam' (the spec's)",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="text",
        choices=OPTIMIZER_NAMES,
        metavar="{lbfgs,adam}",
        details="See [speed](speed.md).",
    )
    steps: int | None = setting(
        None,
        "optimisation steps at the output size (one step: one VGG19 pass; default: by size,"
        f" {STEPS_AT_VIEWING_SIZE} at {VIEWING_SIZE} px and as many more as a smaller size's step is cheaper)",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="int",
        web=True,
        details="A step is one VGG19 forward and backward pass, whichever the optimizer.",
    )
    scales: int | None = setting(
        None,
        "number of sizes of the coarse-to-fine ladder (1: the output size only; default: by --ladder)",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="int",
        details="Given, the sizes are geometric from --scale-start up to --size, with --coarse-steps at each"
        " coarser size.",
    )
    scale_start: int = setting(128, "longer side of the first, coarsest size", OPTIMISATION, RUN_COMMANDS, kind="int")
    coarse_steps: int = setting(
        50,
        "steps at each size of the ladder below the output's",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="int",
    )
    ladder: str = setting(
        "painting",
        f"without --scales: 'painting' (sizes from --scale-start up, each at most twice the one before) or 'print'"
        f" (nst 0.2: one size); a print's sizes from {VIEWING_SIZE} px up, each at most {PRINT_STEP_RATIO:g} times the"
        " one before",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="text",
        choices=LADDERS,
        metavar="{painting,print}",
        details="`painting` takes --coarse-steps at each size below the output's and --steps at the output's;"
        f" above {2 * VIEWING_SIZE} px both continue from {VIEWING_SIZE} px up with half as many steps at each"
        f" larger size (at least {FEWEST_DETAIL_STEPS}). See [quality](quality.md).",
    )
    enlarge: str = setting(
        "detail",
        "how a larger size of the ladder starts: 'detail' (the smaller result enlarged and blurred, with the"
        " photo's finer detail) or 'bicubic'",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="text",
        choices=ENLARGEMENTS,
        metavar="{detail,bicubic}",
        details="`bicubic` leaves the enlargement's lattice (period 2 px when exactly twice), which a dozen steps"
        " do not remove.",
    )
    time_budget: float | None = setting(
        None,
        "seconds: plan the steps to deliver the best image in this time",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="float",
        web=True,
        details="It replaces --steps as the limit.",
    )
    content_weight: float | None = setting(
        None,
        "alpha, weight of the content loss (default: the measured one for --normalization)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="float",
        details=", ".join(f"{content:g} for {name}" for name, (content, _) in LOSS_WEIGHTS.items()) + ".",
    )
    style_weight: float | None = setting(
        None,
        "beta, weight of the style loss (default: the measured one for --normalization)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="float",
        details=", ".join(f"{style:g} for {name}" for name, (_, style) in LOSS_WEIGHTS.items())
        + ". The web form's style strength multiplies it.",
    )
    tv_weight: float = setting(
        0.0,
        "weight of total-variation smoothing",
        LOSSES,
        PICTURE_COMMANDS,
        kind="float",
        details="Not in the spec.",
    )
    normalization: str = setting(
        "photo",
        "'mean' (the TensorFlow tutorial's; balance kept across sizes), 'sum' (the spec's) or 'photo' (each loss"
        " a fraction of the photo's own: every style layer counts, one balance for every pair)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="text",
        choices=NORMALIZATIONS,
        metavar="{mean,sum,photo}",
        details="See [the losses](method.md#losses).",
    )
    vgg_normalization: str = setting(
        "none",
        "'gatys': VGG19 with each filter's mean activation scaled to 1 (Gatys et al. 2016), 'none': as trained",
        LOSSES,
        PICTURE_COMMANDS,
        kind="text",
        choices=VGG_NORMALIZATIONS,
        metavar="{none,gatys}",
        details="With `gatys` every style layer counts and the strokes are bolder; use it with --content-weight 1e6"
        " --style-weight 5e6, see [quality](quality.md).",
    )
    content_layers: tuple[str, ...] = setting(
        CONTENT_LAYERS, "VGG19 layers for content", LOSSES, PICTURE_COMMANDS, kind="names", metavar="L1,L2"
    )
    style_layers: tuple[str, ...] = setting(
        STYLE_LAYERS, "VGG19 layers for style", LOSSES, PICTURE_COMMANDS, kind="names", metavar="L1,L2"
    )
    style_layer_weights: tuple[float, ...] | None = setting(
        None,
        "one weight per style layer (default 1 each)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="numbers",
        metavar="W1,W2",
        details="The spec's w_l.",
    )
    balance_style_layers: bool = setting(
        False,
        "scale the style layers' weights so that each counts equally for the photo",
        LOSSES,
        PICTURE_COMMANDS,
        kind="switch",
    )
    learning_rate: float = setting(0.02, "Adam's learning rate", OPTIMISATION, RUN_COMMANDS, kind="float")
    beta_1: float = setting(0.99, "Adam's beta_1", OPTIMISATION, RUN_COMMANDS, kind="float")
    epsilon: float | None = setting(
        None,
        "Adam's epsilon (default: negligible beside the gradient, by --normalization)",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="float",
        details=", ".join(f"{value:g} for {name}" for name, value in ADAM_EPSILON.items()) + ".",
    )
    lbfgs_history: int = setting(
        30,
        "L-BFGS: number of correction pairs kept",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="int",
        details="Memory: two float32 copies of the image a pair.",
    )
    preconditioner: str = setting(
        "gaussian",
        "L-BFGS: 'gaussian' (smooth image pyramid), 'blocks' (block means: leaves a grid), 'none'",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="text",
        choices=PRECONDITIONER_NAMES,
        metavar="{gaussian,blocks,none}",
        details="`blocks` was the default before 0.2; see [quality](quality.md).",
    )
    shift_pooling_grid: bool = setting(
        True,
        "Adam in tiles (a print's last size): let VGG19 see the picture 1 px further on every other step, so that"
        " its pooling grid leaves no period-2 pattern",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="switch",
        details="Off in the `spec` and `classic` presets and in runs from before it existed; see"
        " [quality](quality.md#vgg19s-pooling-grid).",
    )
    jit_compile: bool | None = setting(
        None,
        "compile the step with XLA (default: at the sizes where it pays, those whose steps cost at least 12 at"
        f" {VIEWING_SIZE} px, and tiled sizes)",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="switch",
        details="TensorFlow only (JAX always compiles): 12-24% faster a step here, about 3.5 s to compile a size."
        " Off by default in `nst video`, where each frame compiles its own step.",
    )
    init: str = setting(
        "content",
        "start from the photo, uniform noise, the painting's mean colour, the fast network's picture (needs"
        " nst[fast]), or an image file",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="text",
        metavar="{content,noise,style-mean,fast,PATH}",
        details="The spec starts from the photo.",
    )
    seed: int | None = setting(
        None, "random seed, makes --init noise repeatable", OPTIMISATION, RUN_COMMANDS, kind="int"
    )
    weights: str | None = setting(
        None,
        f"Keras VGG19 weights file (default ${WEIGHTS_ENV}, else imagenet)",
        LOSSES,
        PICTURE_COMMANDS,
        kind="text",
        metavar="PATH",
        details="See [offline weights](reliability.md#offline-weights).",
    )
    history_every: int = setting(10, "the report's history has the losses of every N-th step", None, (), kind="int")
    max_memory: float | None = setting(
        None,
        "stay within this many MB: a size too large for it is run in tiles, and a run that would not fit even"
        " so is refused (default: $NST_MAX_MEMORY, else what is available)",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="float",
        details="A refused run is told the largest --size that fits; see [print](print.md).",
    )
    tile: int | None = setting(
        None,
        "run in tiles of this many px (a multiple of 16; default: only when memory needs it, as large as fits)",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="int",
    )
    halo: int = setting(
        48,
        "px of the image around each tile that VGG19 sees with it (a multiple of 16)",
        OPTIMISATION,
        RUN_COMMANDS,
        kind="int",
        details="See [print](print.md).",
    )
    checkpoint: str | None = setting(
        None,
        "save the image and optimizer state here every --checkpoint-every steps and on Ctrl-C",
        OPTIMISATION,
        (STYLIZE,),
        kind="text",
        metavar="PATH.npz",
    )
    checkpoint_every: int = setting(50, "steps between checkpoints", OPTIMISATION, (STYLIZE,), kind="int")
    resume: str | None = setting(
        None,
        "continue from a checkpoint (same options; --steps counts from the start)",
        OPTIMISATION,
        (STYLIZE,),
        kind="text",
        metavar="PATH.npz",
    )
    fast: bool = setting(
        False,
        "the fast network's picture alone, in about a second: no optimisation, softer, the painting's colours"
        " more than its forms (needs nst[fast])",
        OPTIMISATION,
        (STYLIZE,),
        kind="flag",
        details="Magenta's arbitrary-style network (Ghiasi et al. 2017) on onnxruntime; TensorFlow never loads.",
    )
    print: str | None = setting(
        None,
        "the printed size, instead of --size: its longer side times --dpi is the picture's longer side"
        " (30x20cm, 297x210mm, 12x8in)",
        PRINTS,
        RUN_COMMANDS,
        kind="text",
        metavar="WxH{cm,mm,in}",
        details="See [print](print.md).",
    )
    dpi: int = setting(
        DEFAULT_DPI,
        "the resolution written into the file, in dots per inch (TIFF, PNG, JPEG; WebP has none)",
        PRINTS,
        RUN_COMMANDS,
        kind="int",
    )
    tileable: bool = setting(
        False,
        "a texture that wraps around: placed side by side with itself it shows no seam (each side a multiple of 16 px)",
        PRINTS,
        PICTURE_COMMANDS,  # scored as it was made: its features wrap around, and its seam is measured
        kind="switch",
        details="See [print](print.md#tileable-textures).",
    )

    def __post_init__(self) -> None:
        # Lists arrive from JSON or Python callers; tuples keep the options hashable.
        for name in ("content_layers", "style_layers", "style_layer_weights", "style_blend", "style_masks"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))
        defaults = LOSS_WEIGHTS.get(self.normalization, LOSS_WEIGHTS["mean"])
        for name, default in zip(("content_weight", "style_weight"), defaults, strict=True):
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        if self.epsilon is None:
            object.__setattr__(self, "epsilon", ADAM_EPSILON.get(self.normalization, ADAM_EPSILON["mean"]))
        _require(
            isinstance(self.dpi, int) and 1 <= self.dpi <= MAX_DPI,
            f"dpi must be 1 to {MAX_DPI} dots per inch, got {self.dpi}",
        )
        if self.print is not None:
            object.__setattr__(self, "size", self.print_pixels()[0])
        self._validate()

    def print_pixels(self) -> tuple[int, int]:
        """The (longer, shorter) sides in pixels of the ``print`` size at ``dpi``: the longer
        printed side sets the picture's longer side (``size``); the photo's shape sets the other."""
        match = _PRINT_SIZE.fullmatch(self.print or "")
        sides = [float(match[1]), float(match[2])] if match else []
        _require(
            bool(match) and min(sides) > 0,
            f"print must be the printed size as WIDTHxHEIGHT with cm, mm or in (30x20cm, 12x8in), got {self.print!r}",
        )
        longer, shorter = (
            round(side / PRINT_UNITS[self.print_unit] * self.dpi) for side in sorted(sides, reverse=True)
        )
        return longer, shorter

    @property
    def print_unit(self) -> str:
        """The unit the ``print`` size is given in: "cm", "mm" or "in"."""
        return _PRINT_SIZE.fullmatch(self.print)[3].lower()

    @property
    def alignment(self) -> int:
        """The stride of the deepest layer used: an image's positions on its multiples are on every layer's grid."""
        return max(layer_stride(name) for name in self.content_layers + self.style_layers)

    @property
    def side_multiple(self) -> int:
        """What the picture's sides are multiples of: 1, or for a tileable one :attr:`alignment`
        (16 px for block5), so that VGG19's poolings meet the wrap-around on their grid at every layer."""
        return self.alignment if self.tileable else 1

    def _validate(self) -> None:
        for name, setting in SETTINGS.items():  # every setting with choices, from its declaration
            value = getattr(self, name)
            if setting.choices and value is not None:
                _require(value in setting.choices, f"{name} must be one of {', '.join(setting.choices)}, got {value!r}")
        _require(self.size >= MIN_SIDE, f"size must be at least {MIN_SIDE} px, got {self.size}")
        if self.style_size is not None:
            _require(self.style_size >= MIN_SIDE, f"style size must be at least {MIN_SIDE} px, got {self.style_size}")
        _require(
            math.isfinite(self.style_scale) and self.style_scale > 0,
            f"style_scale must be a number > 0, got {self.style_scale}",
        )
        if self.style_blend is not None:
            _require(
                all(math.isfinite(w) and w >= 0 for w in self.style_blend) and sum(self.style_blend) > 0,
                f"style_blend must be numbers >= 0, not all 0, got {','.join(map(str, self.style_blend))}",
            )
        _require(self.steps is None or self.steps >= 0, f"steps must be 0 or more, got {self.steps}")
        _require(self.coarse_steps >= 0, f"coarse_steps must be 0 or more, got {self.coarse_steps}")
        _require(self.scales is None or self.scales >= 1, f"scales must be 1 or more, got {self.scales}")
        if self.tile is not None:
            _require(self.tile >= 16 and self.tile % 16 == 0, f"tile must be a multiple of 16 px, got {self.tile}")
        _require(self.halo >= 0 and self.halo % 16 == 0, f"halo must be 0 or a multiple of 16 px, got {self.halo}")
        _require(self.scale_start >= MIN_SIDE, f"scale_start must be at least {MIN_SIDE} px, got {self.scale_start}")
        _require(self.lbfgs_history >= 1, f"lbfgs_history must be 1 or more, got {self.lbfgs_history}")
        if self.time_budget is not None:
            _require(
                math.isfinite(self.time_budget) and self.time_budget > 0,
                f"time_budget must be a number of seconds > 0, got {self.time_budget}",
            )
        if self.max_memory is not None:
            _require(
                math.isfinite(self.max_memory) and self.max_memory > 0,
                f"max_memory must be a number of MB > 0, got {self.max_memory}",
            )
        _require(self.checkpoint_every >= 1, f"checkpoint_every must be 1 or more, got {self.checkpoint_every}")
        _require(self.history_every >= 1, f"history_every must be 1 or more, got {self.history_every}")
        for name in ("content_weight", "style_weight", "tv_weight"):
            value = getattr(self, name)
            _require(math.isfinite(value) and value >= 0, f"{name} must be a finite number >= 0, got {value}")
        for name in ("learning_rate", "epsilon"):
            value = getattr(self, name)
            _require(math.isfinite(value) and value > 0, f"{name} must be a finite number > 0, got {value}")
        _require(0 <= self.beta_1 < 1, f"beta_1 must be in [0, 1), got {self.beta_1}")
        _require(bool(self.init), f"init must be one of {', '.join(INITS)} or an image's path")
        for name in ("content_layers", "style_layers"):
            layers = getattr(self, name)
            _require(len(layers) > 0, f"{name} must name at least one layer")
            for layer in layers:
                _require(
                    layer in VGG19_LAYERS, f"unknown VGG19 layer {layer!r} in {name}; known: {', '.join(VGG19_LAYERS)}"
                )
        if self.style_layer_weights is not None:
            _require(
                len(self.style_layer_weights) == len(self.style_layers),
                f"style_layer_weights has {len(self.style_layer_weights)} values "
                f"for {len(self.style_layers)} style layers",
            )
            _require(
                all(math.isfinite(w) and w >= 0 for w in self.style_layer_weights),
                "style_layer_weights must be finite numbers >= 0",
            )

    def blend_weights(self, styles: int) -> tuple[float, ...]:
        """One weight per style image, summing to 1 (equal shares unless ``style_blend`` is given)."""
        weights = self.style_blend or (1.0,) * styles
        if len(weights) != styles:
            raise NstError(f"style_blend has {len(weights)} weights for {styles} style images")
        return tuple(w / sum(weights) for w in weights)

    def check_style_masks(self, styles: int) -> None:
        """One style mask per style image, when style masks are given."""
        if self.style_masks is not None and len(self.style_masks) != styles:
            raise NstError(f"style_masks has {len(self.style_masks)} masks for {styles} style images")

    @property
    def layer_weights(self) -> tuple[float, ...]:
        """The per-layer style weights w_l, one per style layer (1 each unless given)."""
        return self.style_layer_weights or (1.0,) * len(self.style_layers)

    def resolved_weights(self) -> str:
        """The VGG19 weights to load: this option, else $NST_WEIGHTS, else Keras's "imagenet"."""
        return self.weights or os.environ.get(WEIGHTS_ENV) or "imagenet"

    @classmethod
    def preset(cls, name: str, **settings: Any) -> Options:
        """Named sets of settings; ``settings`` override them."""
        if name not in PRESETS:
            raise NstError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **settings})

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Options:
        """Options from a report's or a PNG's ``params`` (keys that are not settings are ignored).

        A setting that did not exist when the params were written takes the value every run
        had then, not today's default, so that an older picture is made again as it was."""
        known = {name: value for name, value in values.items() if name in cls.__dataclass_fields__}
        return cls(**{**_BEFORE_THE_SETTING_EXISTED, **known})

    @classmethod
    def for_reproduction(cls, params: dict[str, Any]) -> Options:
        """The options that make a picture again from its ``params``: the whole run from the
        start, so without the checkpoint it may have been resumed from or written to."""
        return dataclasses.replace(cls.from_dict(params), resume=None, checkpoint=None)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, for reports and image metadata."""
        values = dataclasses.asdict(self)
        return {key: list(value) if isinstance(value, tuple) else value for key, value in values.items()}


# Every run setting, by name, in the order of Options' fields: what the command line, the web form
# and docs/options.md are made from.
SETTINGS: dict[str, Setting] = {
    field.name: Setting(field.name, **field.metadata["setting"]) for field in dataclasses.fields(Options)
}


def layer_stride(name: str) -> int:
    """How many pixels apart a VGG19 layer's positions are: 2^(poolings before it)."""
    block = int(name[len("block")])
    return 2 ** (block if name.endswith("pool") else block - 1)


def layer_shape(name: str, shape: tuple[int, ...]) -> tuple[int, int]:
    """The (height, width) of VGG19 layer ``name``'s map for an image of ``shape``: its convolutions
    keep the size and each pooling before it halves it, rounding down."""
    stride = layer_stride(name)
    return shape[0] // stride, shape[1] // stride


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise NstError(message)


# What runs did before each of these settings was added (PNGs and reports of nst 0.1 lack them).
_BEFORE_THE_SETTING_EXISTED: dict[str, Any] = {
    "preconditioner": "blocks",
    "ladder": "print",
    "enlarge": "bicubic",
    "shift_pooling_grid": False,
}

# The spec's plain loop, as the TensorFlow tutorial runs it: Adam (0.02, 0.99, 0.1) from the
# photo, clipped to [0, 1], one scale, 1000 steps, mean losses with alpha 1e4, beta 1e-2.
PRESETS: dict[str, dict[str, Any]] = {
    "spec": {
        "optimizer": "adam",
        "learning_rate": 0.02,
        "beta_1": 0.99,
        "epsilon": 0.1,
        "init": "content",
        "scales": 1,
        "steps": 1000,
        "normalization": "mean",
        "content_weight": 1e4,
        "style_weight": 1e-2,
        "vgg_normalization": "none",
        "tv_weight": 0.0,
        "content_layers": CONTENT_LAYERS,
        "style_layers": STYLE_LAYERS,
        "style_layer_weights": None,
        "shift_pooling_grid": False,
    },
    # nst 0.2's default (docs/quality.md): the spec's objective (mean losses, alpha 1e4, beta 1e-2)
    # by L-BFGS from the smooth preconditioner, 100 steps at the output size alone (a print from
    # 512 px up), every size compiled with XLA. Its pictures are the photo under a fine texture in
    # the painting's colours; PNGs made by it carry these settings and reproduce as they were.
    "classic": {
        "optimizer": "lbfgs",
        "init": "content",
        "steps": 100,
        "coarse_steps": 100,
        "ladder": "print",
        "enlarge": "bicubic",
        "normalization": "mean",
        "content_weight": 1e4,
        "style_weight": 1e-2,
        "epsilon": 0.1,
        "vgg_normalization": "none",
        "balance_style_layers": False,
        "preconditioner": "gaussian",
        "jit_compile": True,
        "shift_pooling_grid": False,
        "tv_weight": 0.0,
        "content_layers": CONTENT_LAYERS,
        "style_layers": STYLE_LAYERS,
        "style_layer_weights": None,
    },
}
