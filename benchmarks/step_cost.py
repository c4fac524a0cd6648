"""What one optimisation step costs next to a bare VGG19 forward and backward pass, on whichever
Keras backend and device this runs (the GPU check of docs/backends.md runs it too).

    NST_WEIGHTS=... python benchmarks/step_cost.py [--sizes 256 512] [--repeats 10]
    KERAS_BACKEND=jax python benchmarks/step_cost.py --random-weights --sizes 512 2048 4096

Each size runs in a fresh process (so its peak memory is its own). In it, each variant is timed
step by step after a warm-up (which compiles), and the table shows medians:

* bare VGG19: the gradient of the sum of the extracted activations (block1_conv1 to
  block5_conv2) with respect to the image, nothing else: the network's own cost;
* Adam step: a step of ``run_adam`` as stylize runs it (losses, gradient, Keras's Adam update,
  clipping, the losses fetched for the progress bar);
* L-BFGS step: a step of ``run_lbfgs`` (losses, gradient, the two-loop recursion over the
  pairs held so far, the preconditioner, the projection; the losses fetched). Only the first
  ``--repeats`` + 2 steps are timed: pass ``--repeats 40`` to time a full history of 30 pairs.

Every variant fetches its loss to the host each step, which waits for the device, so the times
are the device's. ``--random-weights`` uses an untrained VGG19 (the same cost), for machines
without the weights file.
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


def step_times(run, objective, image, options, steps: int) -> list[float]:
    """Seconds between the callbacks of ``steps`` steps of an optimizer, after two untimed."""
    stamps = []
    run(objective, image, options, lambda: len(stamps) < steps + 2, lambda *_: stamps.append(time.perf_counter()))
    return [later - earlier for earlier, later in zip(stamps[1:], stamps[2:], strict=False)]


def measure(size: int, repeats: int, random_weights: bool) -> dict:
    import numpy as np
    from keras import ops

    from nst import Options
    from nst.core import backend, features
    from nst.core.adam import run_adam
    from nst.core.lbfgs import run_lbfgs
    from nst.core.objective import Objective
    from nst.media.images import load_image
    from nst.options import CONTENT_LAYERS, STYLE_LAYERS

    if random_weights:  # an untrained VGG19: the same layers, so the same cost
        import keras

        features.load_vgg19 = lambda weights: keras.applications.VGG19(include_top=False, weights=None)
    options = Options(size=size)
    photo = load_image(CONTENT, size)
    objective = Objective(photo, load_image(STYLE, size), options)
    extractor = objective.extractor

    def activations(image):
        return {"total": sum(ops.sum(value) for value in extractor(image).values())}

    bare = backend.compile(backend.value_and_grad(activations), options.jit_compile)
    pixels = ops.convert_to_tensor(photo[np.newaxis])
    bare_times = []
    for _ in range(repeats + 2):
        started = time.perf_counter()
        backend.floats(bare(pixels)[0])
        bare_times.append(time.perf_counter() - started)
    assert set(extractor.layers) == set(CONTENT_LAYERS + STYLE_LAYERS)
    medians = {
        "bare VGG19": statistics.median(bare_times[2:]),
        "Adam step": statistics.median(step_times(run_adam, objective, photo, options, repeats)),
        "L-BFGS step": statistics.median(step_times(run_lbfgs, objective, photo, options, repeats)),
    }
    return {
        "size": size,
        "shape": list(photo.shape[:2]),
        "backend": backend.name(),
        "device": backend.device(),
        "median_s": medians,
        "peak_host_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "peak_device_mb": backend.peak_device_memory_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--repeats", type=int, default=10, help="timed steps of each variant per size")
    parser.add_argument("--random-weights", action="store_true", help="an untrained VGG19 (no weights file)")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.repeats, args.random_weights)))
        return
    rows = []
    for size in args.sizes:
        command = [sys.executable, __file__, "--one", str(size), "--repeats", str(args.repeats)]
        command += ["--random-weights"] if args.random_weights else []
        finished = subprocess.run(command, capture_output=True, text=True)
        if finished.returncode != 0:
            print(f"\n{size} px: failed: {(finished.stderr.strip().splitlines() or ['?'])[-1]}")
            continue
        row = json.loads(finished.stdout.splitlines()[-1])
        rows.append(row)
        medians = row["median_s"]
        device_memory = f", peak device memory {row['peak_device_mb']:.0f} MB" if row["peak_device_mb"] else ""
        print(f"\n{size} px ({row['shape'][1]}x{row['shape'][0]}), {row['backend']} on {row['device']}, "
              f"peak RSS {row['peak_host_mb']:.0f} MB{device_memory}")  # fmt: skip
        print(f"{'variant':<14} {'s/step':>9} {'x bare VGG19':>13}")
        for name, seconds in medians.items():
            print(f"{name:<14} {seconds:>9.4f} {seconds / medians['bare VGG19']:>13.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
