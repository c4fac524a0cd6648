"""The settings of the optimisation: which optimizer, how many steps at which sizes and in how
much time (:class:`ScheduleSettings`); how each step is taken and where the first starts
(:class:`OptimizerSettings`)."""

from __future__ import annotations

from dataclasses import dataclass

from nst.options.choices import (
    ADAM_EPSILON,
    ENLARGEMENTS,
    FEWEST_DETAIL_STEPS,
    LADDERS,
    OPTIMIZER_NAMES,
    PRECONDITIONER_NAMES,
    PRINT_STEP_RATIO,
    STEPS_AT_VIEWING_SIZE,
    VIEWING_SIZE,
)
from nst.options.schema import OPTIMISATION, RUN_COMMANDS, setting


@dataclass(frozen=True)
class ScheduleSettings:
    """How long and at which sizes the picture is optimised (fields of :class:`~nst.options.Options`):
    the optimizer, the steps, the ladder of sizes, how a larger size starts, the time budget."""

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


@dataclass(frozen=True)
class OptimizerSettings:
    """How each step is taken (fields of :class:`~nst.options.Options`): Adam's and L-BFGS's own
    numbers, the preconditioner, the pooling grid's shift, XLA; and the picture the first starts
    from, with its seed."""

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
