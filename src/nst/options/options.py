"""All the settings of a run together (:class:`Options`), their checks, and :data:`SETTINGS`, their
declarations read back. The fields are declared by what they control, in the bases :class:`Options`
combines: the picture's (:mod:`~nst.options.picture`), the optimisation's
(:mod:`~nst.options.optimisation`), the losses' (:mod:`~nst.options.losses`) and what a run loads
and keeps (:mod:`~nst.options.resources`)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from nst.errors import NstError
from nst.options.choices import ADAM_EPSILON, INITS, LOSS_WEIGHTS, MAX_DPI
from nst.options.layers import MIN_SIDE, VGG19_LAYERS
from nst.options.losses import LossSettings
from nst.options.optimisation import OptimizerSettings, ScheduleSettings
from nst.options.picture import PictureSettings, PrintSettings
from nst.options.presets import BEFORE_THE_SETTING_EXISTED, PRESETS
from nst.options.resources import ResourceSettings
from nst.options.schema import Setting


# A dataclass takes its bases' fields last base first, so the fields (and with them --help and
# docs/options.md) come in the order the settings were declared in: the picture's, the schedule's,
# the losses', the optimizer's, the resources' and the print's.
@dataclass(frozen=True)
class Options(PrintSettings, ResourceSettings, OptimizerSettings, LossSettings, ScheduleSettings, PictureSettings):
    """All settings of a run. The defaults are the measured ones described in docs/quality.md;
    each field's help, choices and commands are declared with it (:func:`~nst.options.setting`), and
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
        self._check_sizes_and_steps()
        self._check_budgets()
        self._check_weights_and_start()
        self._check_layers()

    def _check_sizes_and_steps(self) -> None:
        """The sides (the picture's, the paintings', the ladder's first, the tiles') and the steps."""
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

    def _check_budgets(self) -> None:
        """What the run may keep and spend: correction pairs, time, memory, checkpoints, history."""
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

    def _check_weights_and_start(self) -> None:
        """The losses' weights, the optimizer's numbers, and a picture to start from."""
        for name in ("content_weight", "style_weight", "tv_weight"):
            value = getattr(self, name)
            _require(math.isfinite(value) and value >= 0, f"{name} must be a finite number >= 0, got {value}")
        for name in ("learning_rate", "epsilon"):
            value = getattr(self, name)
            _require(math.isfinite(value) and value > 0, f"{name} must be a finite number > 0, got {value}")
        _require(0 <= self.beta_1 < 1, f"beta_1 must be in [0, 1), got {self.beta_1}")
        _require(bool(self.init), f"init must be one of {', '.join(INITS)} or an image's path")

    def _check_layers(self) -> None:
        """VGG19 layers it has, and one style weight per style layer."""
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
        return cls(**{**BEFORE_THE_SETTING_EXISTED, **known})

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


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise NstError(message)
