"""One picture's tiles on Ray workers against one process: a tiled step at a print's size.

    NST_WEIGHTS=... python benchmarks/cluster.py [--size 2048] [--tile 512] [--repeats 3]

Three set-ups, side by side in one run, each a tiled step (the sums of every tile, then each
tile's gradient: :meth:`nst.core.tiles.TiledObjective.value_and_grad`) at one fixed image, the
median of ``--repeats`` after one that compiles:

* one process with one CPU (this one, its threads held to 1);
* one Ray worker of one CPU (the cost of Ray itself: the bytes through the object store);
* two Ray nodes of one CPU each, a worker on each (``ray.cluster_utils.Cluster``, on this machine):
  each tile's forward pass run again in its backward pass, then its activations kept between the
  two (where they fit in the worker's share of its node's memory, as runs do).

For each: the step's seconds, the speed-up against one process, the bytes moved through the
object store each step, the seconds the driver waited on the workers and its own (the step less
the waiting: the tiles' results added, the losses' derivative), and the largest relative
difference of the loss and gradient from one process's. Then, in one process and on the two
nodes, ``--lbfgs-steps`` steps of L-BFGS (6 pairs, as a print's tiled sizes keep) from that
image: the seconds a step (the median after the first) and the driver's own seconds a step,
which now include the optimizer's update. docs/cluster.md's table and model.

The model it prints from those figures, for N nodes of one CPU each, a picture r times the
measured one's pixels: a step takes r (d + t / N) seconds, t the tile passes' seconds in one
process and d the driver's own seconds a step (the tiles' sums and gradients added, the losses'
derivative, the L-BFGS update), measured on the two nodes; it moves r (p N + q) bytes, p the
picture sent to each node and q the tiles' results. The driver becomes half of a step at
N = t / d nodes.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT.parent / "shared" / "images" / "large" / "photo-ladybird-2560.jpg"
PAINTING = ROOT / "examples" / "starry-night.jpg"


def _step(objective, image: np.ndarray, repeats: int, stats=None):
    """The median seconds of a tiled step, its losses and gradient, and per step the bytes moved
    and the seconds waited on workers (from ``stats``, where the tiles run on Ray)."""
    from keras import ops

    from nst.core import backend

    tensor = ops.convert_to_tensor(image[np.newaxis])
    objective.value_and_grad(tensor)  # compiles, and puts the targets in the object store
    times, moved, waited = [], [], []
    for _ in range(repeats):
        before = (stats.bytes_moved, stats.waited_s) if stats else (0, 0.0)
        started = time.perf_counter()
        losses, gradient = objective.value_and_grad(tensor)
        times.append(time.perf_counter() - started)
        if stats:
            moved.append(stats.bytes_moved - before[0])
            waited.append(stats.waited_s - before[1])
    result = (backend.floats(losses)["total"], backend.to_numpy(gradient)[0])
    median = statistics.median
    return median(times), (median(moved) if moved else 0), (median(waited) if waited else 0.0), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--halo", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--lbfgs-steps", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="no one-worker set-up; L-BFGS on the two nodes only")
    args = parser.parse_args()

    import ray
    from ray.cluster_utils import Cluster

    from nst.core import backend
    from nst.core.tiles import TiledObjective
    from nst.media.images import load_image
    from nst.options import Options
    from nst.run.cluster import Workers
    from nst.run.tile_workers import TileWorkers

    backend.limit_threads(1)  # one process with one CPU: the baseline
    options = Options(size=args.size, tile=args.tile, halo=args.halo)
    photo = load_image(PHOTO, args.size)
    painting = load_image(PAINTING, args.size)
    image = np.clip(photo + np.random.default_rng(0).normal(0.0, 0.05, photo.shape), 0, 1).astype(np.float32)

    def objective(workers=None):
        return TiledObjective(photo, painting, options, tile=args.tile, halo=args.halo, workers=workers)

    def lbfgs(objective, stats=None) -> tuple[float, float]:
        """Seconds a step of L-BFGS, and the driver's own (less the waiting on workers), medians after the first."""
        from nst.core.lbfgs import run_lbfgs

        lbfgs_options = dataclasses.replace(options, lbfgs_history=6)
        marks = [(time.perf_counter(), stats.waited_s if stats else 0.0)]

        def on_step(*_):
            marks.append((time.perf_counter(), stats.waited_s if stats else 0.0))

        run_lbfgs(objective, image, lbfgs_options, lambda: len(marks) <= args.lbfgs_steps, on_step)
        steps = list(itertools.pairwise(marks))[1:]
        seconds = statistics.median(after[0] - before[0] for before, after in steps)
        own = statistics.median((after[0] - before[0]) - (after[1] - before[1]) for before, after in steps)
        return seconds, own

    here = objective()
    rows = [("one process, 1 CPU", *_step(here, image, args.repeats))]
    lbfgs_rows = [] if args.quick else [("one process, 1 CPU", *lbfgs(here))]
    print(f"{photo.shape[1]}x{photo.shape[0]} px, {len(here.tiling)} tiles of {args.tile} px (crops "
          f"{here.tiling.crop[1]}x{here.tiling.crop[0]}), halo {args.halo}; one process: {rows[0][1]:.2f} s a step",
          flush=True)  # fmt: skip
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        ray.init(address=cluster.address, log_to_driver=False, logging_level="ERROR")
        setups = (("Ray, 1 worker of 1 CPU", 1), ("Ray, 2 nodes of 1 CPU", 2))
        for label, nodes in setups[1:] if args.quick else setups:
            if nodes == 2:
                cluster.add_node(num_cpus=1)
            with TileWorkers(Workers(count=nodes, gpus_per_worker=0), options.resolved_weights()) as workers:
                if nodes == 2:  # each tile's forward pass run again in its backward pass, then kept
                    ray.get([actor.use_memory.remote(0.0) for actor in workers.actors])
                    spread = objective(workers.runner)
                    step = _step(spread, image, args.repeats, workers.stats)
                    rows.append((f"{label}, activations recomputed", *step))
                    workers.share_memory()
                    label, kept_before = f"{label}, activations kept", workers.stats.kept
                spread = objective(workers.runner)
                rows.append((label, *_step(spread, image, args.repeats, workers.stats)))
                if nodes == 2:
                    kept = workers.stats.kept - kept_before
                if nodes == 2:
                    lbfgs_rows.append((label, *lbfgs(spread, workers.stats)))
                tiles_each = dict(workers.stats.tiles)
    finally:
        ray.shutdown()
        cluster.shutdown()

    baseline_seconds, _, _, (baseline_loss, baseline_gradient) = rows[0][1:]
    print("\n| set-up | step (s) | speed-up | MB moved a step | driver waited (s) | driver's own (s) |"
          " loss, gradient vs one process |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for label, seconds, moved, waited, (loss, gradient) in rows:
        own = f"{seconds - waited:.2f}" if waited else "-"
        gradient_difference = np.linalg.norm(gradient - baseline_gradient) / np.linalg.norm(baseline_gradient)
        loss_difference = abs(loss - baseline_loss) / abs(baseline_loss)
        print(f"| {label} | {seconds:.2f} | {baseline_seconds / seconds:.2f}x | {moved / 2**20:.1f} | {waited:.2f} |"
              f" {own} | {loss_difference:.1e}, {gradient_difference:.1e} |")  # fmt: skip
    print("\n| set-up | L-BFGS step (s) | speed-up | driver's own (s) |\n|---|---|---|---|")
    for label, seconds, own in lbfgs_rows:
        print(f"| {label} | {seconds:.2f} | {rows[0][1] / seconds:.2f}x against one process's tiled step | {own:.2f} |")
    _model(args.size, photo.shape, rows, lbfgs_rows)
    print(f"\ntiles each (2 nodes, all their passes): {tiles_each}; backward passes from kept activations: {kept}"
          f" of {(args.repeats + 1) * len(here.tiling)}")  # fmt: skip


def _model(size: int, shape: tuple[int, ...], rows: list, lbfgs_rows: list) -> None:
    """The projection for N nodes and larger prints, from this run's figures (see the docstring)."""
    tiles_seconds = rows[0][1]  # one process's tiled step: the tiles are nearly all of it
    driver = lbfgs_rows[-1][2]  # on two nodes: what the driver does itself a step
    picture = shape[0] * shape[1] * 3 * 4
    results = rows[-1][2] - 2 * picture  # the bytes of a step on two nodes, less the picture to each
    print(f"\nmodel: t = {tiles_seconds:.2f} s of tile passes a step at {size} px, d = {driver:.2f} s the driver's own;"
          f" the driver is half of a step from N = {tiles_seconds / driver:.0f} nodes")  # fmt: skip
    print("\n| print | nodes | a step (s) | speed-up | MB moved a step | 10 steps (min) |\n|---|---|---|---|---|---|")
    for side in (size, 4096, 8192):
        ratio = (side / size) ** 2
        for nodes in (1, 2, 4, 8, 16):
            step = ratio * (tiles_seconds if nodes == 1 else driver + tiles_seconds / nodes)
            moved = 0 if nodes == 1 else ratio * (picture * nodes + results)
            print(f"| {side} px | {nodes} | {step:.1f} | {ratio * tiles_seconds / step:.2f}x | {moved / 2**20:.0f} |"
                  f" {10 * step / 60:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
