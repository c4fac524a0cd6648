"""Every setting of a style-transfer run, declared once, with its default and its validation.

Each field of :class:`Options` is declared with its help, choices, the commands that take it and
whether the web form may set it (:func:`setting`); :data:`SETTINGS` reads them back as
:class:`Setting` objects, from which the command line's parsers, the web form's fields and
docs/options.md are made. The front ends' own settings (an output path, a port) are
:class:`Setting` objects too, declared beside the command that takes them (:mod:`nst.apps.cli.settings`).

:class:`Options` holds the settings and their checks; what a run plans from them (the ladder of
sizes, each size's steps, where XLA pays) is :mod:`nst.run.ladder`'s.

Where each part lives: how a setting is declared, the commands and the help's headings in
:mod:`~nst.options.schema`; the names settings may take and the numbers of their defaults in
:mod:`~nst.options.choices`; VGG19's layers in :mod:`~nst.options.layers`; the environment Keras
starts in in :mod:`~nst.options.environment`; the fields by what they control in
:mod:`~nst.options.picture`, :mod:`~nst.options.optimisation`, :mod:`~nst.options.losses` and
:mod:`~nst.options.resources`, combined with their checks in :mod:`~nst.options.options`; the
presets in :mod:`~nst.options.presets`.

This package does not import TensorFlow, so the command line can parse and check its
arguments (and answer ``--help``) instantly.
"""

from nst.options.choices import (
    ADAM_EPSILON,
    DEFAULT_DPI,
    ENLARGEMENTS,
    FEWEST_DETAIL_STEPS,
    INITS,
    LADDERS,
    LOSS_WEIGHTS,
    MAX_DPI,
    NORMALIZATIONS,
    OPTIMIZER_NAMES,
    PRECONDITIONER_NAMES,
    PRESERVE_COLORS,
    PRINT_STEP_RATIO,
    PRINT_UNITS,
    STEPS_AT_VIEWING_SIZE,
    VGG_NORMALIZATIONS,
    VIEWING_SIZE,
)
from nst.options.environment import WEIGHTS_ENV, keras_backend
from nst.options.layers import CONTENT_LAYERS, MIN_SIDE, STYLE_LAYERS, VGG19_LAYERS, layer_shape, layer_stride
from nst.options.options import SETTINGS, Options
from nst.options.presets import PRESETS
from nst.options.schema import (
    BATCH,
    KINDS,
    LOSSES,
    OPTIMISATION,
    PICTURE_COMMANDS,
    PRINTS,
    REPRODUCE,
    RUN_COMMANDS,
    SCORE,
    SERVE,
    SIZES,
    STYLIZE,
    VIDEO,
    Setting,
    setting,
    split_list,
)

__all__ = [
    "ADAM_EPSILON",
    "BATCH",
    "CONTENT_LAYERS",
    "DEFAULT_DPI",
    "ENLARGEMENTS",
    "FEWEST_DETAIL_STEPS",
    "INITS",
    "KINDS",
    "LADDERS",
    "LOSSES",
    "LOSS_WEIGHTS",
    "MAX_DPI",
    "MIN_SIDE",
    "NORMALIZATIONS",
    "OPTIMISATION",
    "OPTIMIZER_NAMES",
    "PICTURE_COMMANDS",
    "PRECONDITIONER_NAMES",
    "PRESERVE_COLORS",
    "PRESETS",
    "PRINTS",
    "PRINT_STEP_RATIO",
    "PRINT_UNITS",
    "REPRODUCE",
    "RUN_COMMANDS",
    "SCORE",
    "SERVE",
    "SETTINGS",
    "SIZES",
    "STEPS_AT_VIEWING_SIZE",
    "STYLE_LAYERS",
    "STYLIZE",
    "VGG19_LAYERS",
    "VGG_NORMALIZATIONS",
    "VIDEO",
    "VIEWING_SIZE",
    "WEIGHTS_ENV",
    "Options",
    "Setting",
    "keras_backend",
    "layer_shape",
    "layer_stride",
    "setting",
    "split_list",
]
