"""Tiles against the whole image: how close the gradient comes for each halo, and whether a
tiled run reaches the whole-image run's objective, at what extra time.

    NST_WEIGHTS=... python benchmarks/tiles.py halo [--size 512] [--tile 128] [--halos 0 32 64 96 128]
    NST_WEIGHTS=... python benchmarks/tiles.py runs [--sizes 512 1024] [--steps 20]

``halo``: at one image (the photo with noise added), the losses and gradient of the tiled
objective against the whole image's (relative L2 error of the gradient, relative error of the
total), and the seconds of one tiled evaluation (median of 3) against the whole image's.
``runs``: the same run whole and in tiles of a quarter of the longer side, with each halo: the
final objective (the run's own, and the picture scored by the whole image's objective), the
picture measures, and wall time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "examples" / "cat.jpg"
STYLE = ROOT / "examples" / "starry-night.jpg"


def _timed(evaluate, image, repeats: int = 3):
    from nst.core import backend

    evaluate(image)  # compiles
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        losses, gradient = evaluate(image)
        result = (backend.floats(losses), backend.to_numpy(gradient)[0])
        times.append(time.perf_counter() - started)
    return result, statistics.median(times)


def halo(args: argparse.Namespace) -> None:
    from keras import ops

    from nst import Options
    from nst.core import backend
    from nst.core.objective import Objective
    from nst.core.tiles import TiledObjective
    from nst.media.images import load_image

    photo, painting = load_image(CONTENT, args.size), load_image(STYLE, args.size)
    noisy = np.clip(photo + np.random.default_rng(0).normal(0.0, 0.1, photo.shape), 0.0, 1.0).astype(np.float32)
    image = ops.convert_to_tensor(noisy[np.newaxis])
    options = Options(size=args.size)
    (whole_losses, whole_gradient), whole_s = _timed(
        backend.compile(backend.value_and_grad(Objective(photo, painting, options))), image
    )
    print(f"{args.size} px ({photo.shape[1]}x{photo.shape[0]}), tiles of {args.tile} px; whole image: {whole_s:.2f} s")
    print(
        f"{'halo':>5} {'tiles':>5} {'crop':>9} {'gradient error':>14} {'total error':>11} {'seconds':>8} {'x whole':>7}"
    )
    for margin in args.halos:
        objective = TiledObjective(photo, painting, options, tile=args.tile, halo=margin)
        (losses, gradient), seconds = _timed(objective.value_and_grad, image)
        error = np.linalg.norm(gradient - whole_gradient) / np.linalg.norm(whole_gradient)
        total = losses["total"] / whole_losses["total"] - 1
        crop = "x".join(map(str, objective.tiling.crop[::-1]))
        print(f"{margin:>5} {len(objective.tiling):>5} {crop:>9} {error:>14.2%} {total:>+11.2e} {seconds:>8.2f}"
              f" {seconds / whole_s:>7.2f}", flush=True)  # fmt: skip


def runs(args: argparse.Namespace) -> None:
    from nst import Options, score, stylize

    print(f"{'size':>5} {'run':>18} {'steps':>5} {'objective':>10} {'as whole':>10} {'grid':>6} {'noise':>6}"
          f" {'time s':>7}")  # fmt: skip
    for size in args.sizes:
        rows = []
        for tile, margin in [(None, None)] + [(size // 4, margin) for margin in args.halos]:
            settings = {"size": size, "steps": args.steps, "tile": tile} | (
                {"halo": margin} if margin is not None else {}
            )
            result = stylize(CONTENT, STYLE, **settings)
            final = result.report["final"]
            # The tiled run's picture scored by the whole image's objective: the same yardstick for all.
            as_whole = score(result.pixels, CONTENT, STYLE, Options(size=size))["total"]
            name = "whole" if tile is None else f"tiles {tile}, halo {margin}"
            rows.append((as_whole, result.report["wall_s"]))
            seconds = result.report["wall_s"]
            print(f"{size:>5} {name:>18} {args.steps:>5} {final['total']:>10.4g} {as_whole:>10.4g}"
                  f" {final['grid']:>6.3f} {final['noise']:>6.3f} {seconds:>7.0f}", flush=True)  # fmt: skip
        (whole, whole_s), *tiled_rows = rows
        for margin, (tiled, tiled_s) in zip(args.halos, tiled_rows, strict=True):
            change, ratio = tiled / whole - 1, tiled_s / whole_s
            print(f"{size:>5} halo {margin}: tiled / whole: objective {change:+.2%}, time x{ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    halo_parser = commands.add_parser("halo")
    halo_parser.add_argument("--size", type=int, default=512)
    halo_parser.add_argument("--tile", type=int, default=128)
    halo_parser.add_argument("--halos", type=int, nargs="+", default=[0, 32, 64, 96, 128])
    runs_parser = commands.add_parser("runs")
    runs_parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    runs_parser.add_argument("--steps", type=int, default=20)
    runs_parser.add_argument("--halos", type=int, nargs="+", default=[32, 64])
    args = parser.parse_args()
    (halo if args.command == "halo" else runs)(args)


if __name__ == "__main__":
    main()
