"""The names settings may take and the numbers their defaults are made from: the losses' weights
and Adam's epsilon by normalization, the print files' resolution, the numbers of the ladder that
the settings' help quotes."""

from __future__ import annotations

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
# Print files: the resolution written into them unless --dpi says otherwise, and what --print reads.
DEFAULT_DPI = 300
MAX_DPI = 65535  # JPEG's JFIF holds the density in 16 bits
PRINT_UNITS = {"cm": 2.54, "mm": 25.4, "in": 1.0}  # per inch
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
