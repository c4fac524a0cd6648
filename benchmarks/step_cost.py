"""What one optimisation step costs, next to a bare VGG19 forward and backward pass.

    NST_WEIGHTS=... python benchmarks/step_cost.py [--sizes 256 512] [--repeats 10]

Each size runs in a fresh process (so its peak RSS is its own). In it, after a warm-up call
of each, the variants are timed in turn, round after round, and the table shows medians:

* bare VGG19: the gradient of block5_conv2's activations w.r.t. the image, nothing else;
* Adam step: losses, gradient, Adam update and clipping, as stylize runs it;
* L-BFGS step: losses and gradient, the image and gradient crossing to NumPy, and the
  optimizer's direction (two-loop recursion over 30 pairs, preconditioner, projection);
* each of them again compiled with XLA (jit_compile).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "examples" / "cat.jpg"
STYLE = ROOT / "examples" / "starry-night.jpg"


def variants(size: int) -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    from nst import Options
    from nst.features import FeatureExtractor
    from nst.images import load_image
    from nst.objective import Objective
    from nst.optimizers import _ProjectedLbfgs

    options = Options(size=size)
    content, style = load_image(CONTENT, size), load_image(STYLE, size)
    objective = Objective(content, style, options)
    bare_extractor = FeatureExtractor(["block5_conv2"], options.resolved_weights())
    image = tf.Variable(content[np.newaxis])
    optimizer = keras.optimizers.Adam(learning_rate=0.02, beta_1=0.99, epsilon=0.1)
    optimizer.build([image])

    def bare():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(bare_extractor(image)["block5_conv2"])
        return tape.gradient(loss, image)

    def adam_step():
        with tf.GradientTape() as tape:
            losses = objective(image)
        optimizer.apply_gradients([(tape.gradient(losses["total"], image), image)])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return losses["total"]

    def loss_and_gradient(pixels):
        with tf.GradientTape() as tape:
            tape.watch(pixels)
            losses = objective(pixels)
        return losses["total"], tape.gradient(losses["total"], pixels)

    def lbfgs_step(compiled):
        # The optimizer's own work as in a run whose memory is full: the two-loop recursion over
        # lbfgs_history pairs and the preconditioner, on pairs that keep the direction downhill.
        search = _ProjectedLbfgs(content, options.lbfgs_history)
        search.point, search.gradient = search.trial, np.ones_like(search.trial)
        random = np.random.default_rng(0)
        search.steps = [random.normal(0, 1e-3, search.trial.size).astype(np.float32) for _ in range(30)]
        search.changes = [2 * step for step in search.steps]

        def run():
            total, gradient = compiled(tf.constant(search.trial.reshape(image.shape)))
            search.gradient = gradient.numpy().reshape(-1)
            search.direction = search._direction()
            search.trial = search._project(1e-6)
            return float(total)

        return run

    table = {}
    for jit in (False, True):
        suffix = " +XLA" if jit else ""
        table["bare VGG19" + suffix] = tf.function(bare, jit_compile=jit)
        table["Adam step" + suffix] = tf.function(adam_step, jit_compile=jit)
        table["L-BFGS step" + suffix] = lbfgs_step(tf.function(loss_and_gradient, jit_compile=jit))
    return table


def measure(size: int, repeats: int) -> dict:
    functions = variants(size)
    for function in functions.values():
        function()  # compiles
    seconds = {name: [] for name in functions}
    for _ in range(repeats):
        for name, function in functions.items():
            started = time.perf_counter()
            result = function()
            if hasattr(result, "numpy"):
                result.numpy()  # waits for the computation
            seconds[name].append(time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "size": size,
        "median_s": {name: statistics.median(times) for name, times in seconds.items()},
        "peak_mb": peak_mb,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--repeats", type=int, default=10, help="timed rounds per size")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeats)))
        return
    for size in args.sizes:
        command = [sys.executable, __file__, "--one", str(size), "--repeats", str(args.repeats)]
        row = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
        medians = row["median_s"]
        print(f"\n{size} px (peak RSS {row['peak_mb']:.0f} MB, all variants in one process)")
        print(f"{'variant':<18} {'s/step':>8} {'x bare VGG19':>13}")
        for name, seconds in medians.items():
            print(f"{name:<18} {seconds:>8.3f} {seconds / medians['bare VGG19']:>13.2f}")


if __name__ == "__main__":
    main()
