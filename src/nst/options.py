"""Every setting of a style-transfer run, with its default and its validation.

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
OPTIMIZERS = ("lbfgs", "adam")
PRECONDITIONERS = ("gaussian", "blocks", "none")
VGG_NORMALIZATIONS = ("none", "gatys")
LADDERS = ("painting", "print")
# (content_weight, style_weight) unless given, by normalization: the spec's for its forms, and for
# losses relative to the photo's own the balance chosen by the quality panel (docs/quality.md).
LOSS_WEIGHTS = {"mean": (1e4, 1e-2), "sum": (1e4, 1e-2), "photo": (0.4, 1.0)}
# Adam's epsilon unless given, by normalization: negligible beside the gradient in each (the spec's
# 0.1 against 1e4 to 3e6 per pixel in the mean form; the photo form's gradients are 1e-9 of those).
ADAM_EPSILON = {"mean": 0.1, "sum": 0.1, "photo": 1e-9}
ENLARGEMENTS = ("detail", "bicubic")
WEIGHTS_ENV = "NST_WEIGHTS"
# VGG19 halves the image four times before block5; below this the deepest maps vanish.
MIN_SIDE = 16
# Print files: the resolution written into them unless --dpi says otherwise, and what --print reads.
DEFAULT_DPI = 300
MAX_DPI = 65535  # JPEG's JFIF holds the density in 16 bits
PRINT_UNITS = {"cm": 2.54, "mm": 25.4, "in": 1.0}  # per inch
_PRINT_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*[x×]\s*(\d+(?:\.\d+)?)\s*(cm|mm|in)\s*", re.IGNORECASE)
# A print's ladder starts at the size people look at a picture on a screen.
VIEWING_SIZE = 512
PRINT_STEP_RATIO = 1.8
FEWEST_DETAIL_STEPS = 10
# Unless --steps is given, the output size's steps: this many at the viewing size, and at other
# sizes as many more or fewer as a step there is cheaper or dearer (by pixels), within bounds:
# the same work, about the same wait, and the same finish at 256 px as at 512 px.
STEPS_AT_VIEWING_SIZE = 16
# Unless --jit-compile is given: XLA compiles a size's step where its planned steps times its side
# squared reach this, 12 steps at 512 px. Compiling costs about 3.5 s a size and saves 12-24% of
# each step (docs/speed.md): at 512 px it pays after 7 to 10 steps, at 128 px only after 170.
XLA_PAYS_AFTER = 12 * VIEWING_SIZE**2
MOST_DEFAULT_STEPS = 100


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


@dataclass(frozen=True)
class Options:
    """All settings of a run. The defaults are the measured ones described in docs/quality.md.

    Loss weights: ``content_weight`` is the spec's alpha, ``style_weight`` its beta. Unless given,
    they are the measured ones for ``normalization`` (:data:`LOSS_WEIGHTS`): the spec's 1e4 and
    1e-2 for its "mean" and "sum" forms (with ``vgg_normalization="gatys"`` about 1e6 and 5e6,
    see docs/quality.md); for "photo", where each loss is a fraction of the photo's own, the
    balance chosen in docs/quality.md.
    ``normalization`` chooses how the losses are scaled ("mean": the TensorFlow tutorial's
    means, whose balance does not change with resolution; "sum": the spec's sums as written;
    "photo": each term relative to the photo's own); see :mod:`nst.core.losses`.
    """

    size: int = 512
    style_size: int | None = None
    style_scale: float = 1.0
    style_blend: tuple[float, ...] | None = None
    preserve_colors: str | None = None
    mask: str | None = None
    style_masks: tuple[str, ...] | None = None
    optimizer: str = "lbfgs"
    steps: int | None = None
    scales: int | None = None
    scale_start: int = 128
    coarse_steps: int = 100
    ladder: str = "print"
    enlarge: str = "bicubic"
    time_budget: float | None = None
    content_weight: float | None = None
    style_weight: float | None = None
    tv_weight: float = 0.0
    normalization: str = "mean"
    vgg_normalization: str = "none"
    content_layers: tuple[str, ...] = CONTENT_LAYERS
    style_layers: tuple[str, ...] = STYLE_LAYERS
    style_layer_weights: tuple[float, ...] | None = None
    balance_style_layers: bool = False
    learning_rate: float = 0.02
    beta_1: float = 0.99
    epsilon: float | None = None
    lbfgs_history: int = 30
    preconditioner: str = "gaussian"
    jit_compile: bool | None = None
    init: str = "content"
    seed: int | None = None
    weights: str | None = None
    history_every: int = 10
    max_memory: float | None = None
    tile: int | None = None
    halo: int = 32
    checkpoint: str | None = None
    checkpoint_every: int = 50
    resume: str | None = None
    # The feed-forward network's picture alone, no optimisation (the extra nst[fast]; nst.run.fast).
    fast: bool = False
    # Prints and textures (docs/print.md): the resolution of the file, the print's size (which
    # sets ``size`` from ``dpi``: "30x20cm", "12x8in"), and a picture that wraps around.
    dpi: int = DEFAULT_DPI
    print: str | None = None
    tileable: bool = False

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
        if self.preserve_colors is not None:
            _require(
                self.preserve_colors in PRESERVE_COLORS,
                f"preserve_colors must be one of {', '.join(PRESERVE_COLORS)}, got {self.preserve_colors!r}",
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
        _require(
            self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}"
        )
        _require(self.ladder in LADDERS, f"ladder must be one of {', '.join(LADDERS)}, got {self.ladder!r}")
        _require(
            self.enlarge in ENLARGEMENTS, f"enlarge must be one of {', '.join(ENLARGEMENTS)}, got {self.enlarge!r}"
        )
        _require(
            self.preconditioner in PRECONDITIONERS,
            f"preconditioner must be one of {', '.join(PRECONDITIONERS)}, got {self.preconditioner!r}",
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
        _require(
            self.normalization in NORMALIZATIONS,
            f"normalization must be one of {', '.join(NORMALIZATIONS)}, got {self.normalization!r}",
        )
        _require(
            self.vgg_normalization in VGG_NORMALIZATIONS,
            f"vgg_normalization must be one of {', '.join(VGG_NORMALIZATIONS)}, got {self.vgg_normalization!r}",
        )
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

    def painting_side(self, output_side: int | None = None) -> int:
        """Longer side the paintings are resized to: ``style_size`` (else ``size``) times
        ``style_scale``; on a smaller size of the ladder (``output_side``), in proportion."""
        longest = (self.style_size or self.size) * self.style_scale
        return round(longest if output_side is None else longest * output_side / self.size)

    def scale_sizes(self) -> list[int]:
        """Longer sides of the coarse-to-fine ladder, ending at ``size``.

        With ``scales`` given: geometric from ``scale_start``. Unless it is given, by ``ladder``:

        * ``"painting"``: every picture is made from ``scale_start`` up, each size at most
          ``PRINT_STEP_RATIO`` times the one before (128, 203, 323, 512), because the painting's
          forms are laid down where VGG19's deeper layers see them at the painting's scale; a
          print continues from the viewing size as below.
        * ``"print"`` (nst 0.2): one size, except that a print (over ``2 x VIEWING_SIZE``) is made
          from the viewing size up: 512, 861, 1448, 2435, 4096.

        Not exactly twice: an image enlarged exactly twice has a lattice of period 2 px from the
        interpolation (grid 1.15 at 512 px), which a dozen steps do not remove."""
        if self.scales is None:
            if self.ladder == "print" and self.size <= 2 * VIEWING_SIZE:
                return [self.size]
            if self.size <= 2 * VIEWING_SIZE:
                return _geometric(self.scale_start, self.size)
            start = _geometric(self.scale_start, VIEWING_SIZE) if self.ladder == "painting" else [VIEWING_SIZE]
            return start[:-1] + _geometric(VIEWING_SIZE, self.size)
        if self.scales == 1 or self.size <= self.scale_start:
            return [self.size]
        ratio = self.size / self.scale_start
        return [round(self.scale_start * ratio ** (i / (self.scales - 1))) for i in range(self.scales)]

    def steps_per_size(self) -> list[int]:
        """The planned steps of each size of the ladder (``steps``: :meth:`output_steps`).

        With ``scales`` given, or the ``"print"`` ladder below a print: ``coarse_steps`` at each
        coarser size and ``steps`` at the output's. The ``"painting"`` ladder goes geometrically
        from ``coarse_steps`` at its smallest size to ``steps`` at the output (40, 27, 18, 12):
        a small size's step is cheap and lays down the painting's forms, a large one's costs up
        to 16 times as much and adds detail to a picture that is nearly there. A print's automatic
        ladder reaches ``steps`` at the viewing size, where the painting's structure is laid down,
        and takes half as many at each larger size (at least ``FEWEST_DETAIL_STEPS``)."""
        sizes = self.scale_sizes()
        if self.scales is not None or len(sizes) == 1:
            return [self.coarse_steps] * (len(sizes) - 1) + [self.output_steps()]
        viewing = sizes.index(VIEWING_SIZE) if sizes[-1] > 2 * VIEWING_SIZE else len(sizes) - 1
        steps = self.output_steps(sizes[viewing])
        if self.ladder == "painting":
            ratio = steps / max(self.coarse_steps, 1)
            planned = [round(self.coarse_steps * ratio ** (index / max(viewing, 1))) for index in range(viewing + 1)]
        else:
            planned = [steps]
        larger = len(sizes) - 1 - viewing
        return planned + [max(FEWEST_DETAIL_STEPS, steps >> index) for index in range(1, larger + 1)]

    def compiles(self, index: int) -> bool:
        """Whether the ladder's size ``index`` compiles its step with XLA: ``jit_compile``, or
        unless it is given where the size's planned steps make up for the compiling."""
        if self.jit_compile is not None:
            return self.jit_compile
        return self.steps_per_size()[index] * self.scale_sizes()[index] ** 2 >= XLA_PAYS_AFTER

    def output_steps(self, side: int | None = None) -> int:
        """``steps``, or unless it is given the default for a picture with longer side ``side``
        (default ``size``): :data:`STEPS_AT_VIEWING_SIZE` at the viewing size, scaled by how many
        times cheaper a step is (64 at 256 px), from FEWEST_DETAIL_STEPS to MOST_DEFAULT_STEPS."""
        if self.steps is not None:
            return self.steps
        scaled = STEPS_AT_VIEWING_SIZE * (VIEWING_SIZE / (side or self.size)) ** 2
        return int(min(MOST_DEFAULT_STEPS, max(FEWEST_DETAIL_STEPS, round(scaled))))

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


def layer_stride(name: str) -> int:
    """How many pixels apart a VGG19 layer's positions are: 2^(poolings before it)."""
    block = int(name[len("block")])
    return 2 ** (block if name.endswith("pool") else block - 1)


def _geometric(start: int, end: int) -> list[int]:
    """Sizes from ``start`` to ``end``, geometric, as few as keep each at most PRINT_STEP_RATIO
    times the one before."""
    if end <= start:
        return [end]
    count = math.ceil(math.log(end / start) / math.log(PRINT_STEP_RATIO)) + 1
    return [round(start * (end / start) ** (i / (count - 1))) for i in range(count)]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise NstError(message)


# What runs did before each of these settings was added (PNGs and reports of nst 0.1 lack them).
_BEFORE_THE_SETTING_EXISTED: dict[str, Any] = {"preconditioner": "blocks", "ladder": "print", "enlarge": "bicubic"}

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
    },
}
