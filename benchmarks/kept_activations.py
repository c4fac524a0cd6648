"""A tile's two passes with its activations kept between them, against the forward pass run again.

    NST_WEIGHTS=... KERAS_BACKEND=tensorflow|jax|torch python benchmarks/kept_activations.py [--crop 608] [--repeats 3]

On one CPU thread, one crop of ``--crop`` px (a 512 px tile and its 48 px halo: 608), each way
side by side, the median of ``--repeats`` after one that compiles:

* recomputed: the first pass (the sums), then the second (a forward and a backward pass, compiled
  together: :class:`nst.core.tile_passes.TilePasses` without room to keep);
* kept: the first pass keeping its activations, then the second from them (the backward pass
  alone: ``backend.pullback``).

Prints the seconds of each pass and of the two together, the gradient's difference between the
two ways, and the resident memory the kept activations took (psutil, over the process before).
docs/cluster.md's table: whether a tile worker keeps them is decided by these figures.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import psutil


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--crop", type=int, default=608)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from keras import tree

    from nst.core import backend
    from nst.core.tile_passes import TilePasses
    from nst.core.tiles import TiledObjective
    from nst.options import Options

    backend.limit_threads(1)
    options = Options()
    rng = np.random.default_rng(0)
    side = args.crop
    photo = rng.random((side, side, 3), dtype=np.float32)
    painting = rng.random((256, 256, 3), dtype=np.float32)
    # One tile whose crop is the whole image: the halo covers it, nothing is cut off.
    objective = TiledObjective(photo, painting, options, tile=side, halo=0)
    tiling, targets = objective.tiling, objective._host_targets
    passes = TilePasses(options, objective.extractor, keep_mb=1e9)
    image = np.clip(photo + rng.normal(0, 0.05, photo.shape), 0, 1).astype(np.float32)
    sums = passes.forward(image, tiling, targets, 0)
    sums_gradient = tree.map_structure(lambda part: np.full_like(part, 1e-3), sums)

    def recomputed():
        started = time.perf_counter()
        passes.forward(image, tiling, targets, 0)
        middle = time.perf_counter()
        gradient = passes.backward(image, tiling, targets, sums_gradient, 0)
        return middle - started, time.perf_counter() - middle, gradient

    def kept(step):
        started = time.perf_counter()
        passes.forward(image, tiling, targets, 0, keep=step)
        middle = time.perf_counter()
        gradient = passes.backward(image, tiling, targets, sums_gradient, 0, keep=step)
        return middle - started, time.perf_counter() - middle, gradient

    process = psutil.Process()
    recomputed(), kept("compile")  # each compiles once
    rows = {"recomputed": [], "kept": []}
    for repeat in range(args.repeats):
        rows["recomputed"].append(recomputed())
        rows["kept"].append(kept(repeat))
    before = process.memory_info().rss
    passes.forward(image, tiling, targets, 0, keep="memory")
    kept_mb = (process.memory_info().rss - before) / 2**20
    passes.kept.clear()
    difference = np.linalg.norm(rows["kept"][-1][2] - rows["recomputed"][-1][2]) / np.linalg.norm(
        rows["recomputed"][-1][2]
    )
    print(f"{backend.name()} on 1 CPU thread, a {side}x{side} px crop; medians of {args.repeats}")
    print("| way | first pass (s) | second pass (s) | both (s) |\n|---|---|---|---|")
    for way, runs in rows.items():
        first, second = (statistics.median(run[index] for run in runs) for index in (0, 1))
        print(f"| {way} | {first:.2f} | {second:.2f} | {first + second:.2f} |")
    print(f"gradient kept against recomputed, relative L2: {difference:.1e}; kept activations: {kept_mb:.0f} MB")


if __name__ == "__main__":
    main()
