"""Estimated peak memory (nst.memory) against the real peak RSS of a run, per size.

    NST_WEIGHTS=... python benchmarks/memory.py [--sizes 256 512 1024] [--optimizers adam lbfgs] [--steps 40]

Each run is a fresh process. L-BFGS stores one more pair of its history per iteration, so
its runs need more steps than its history length (30) for the estimate's workspace to be real.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "examples" / "cat.jpg"
STYLE = ROOT / "examples" / "starry-night.jpg"


def run(size: int, optimizer: str, steps: int) -> dict:
    from nst import Options, stylize
    from nst.memory import estimate_peak_mb

    result = stylize(CONTENT, STYLE, size=size, steps=steps, optimizer=optimizer)
    height, width = result.pixels.shape[:2]
    return {
        "estimate_mb": estimate_peak_mb(Options(size=size, optimizer=optimizer), height, width),
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--optimizers", nargs="+", default=["adam", "lbfgs"])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run(int(args.one[0]), args.one[1], args.steps)))
        return
    print(f"{'size':>5} {'optimizer':>9} {'steps':>5} {'estimate MB':>11} {'peak RSS MB':>11} {'error':>7}")
    for optimizer in args.optimizers:
        for size in args.sizes:
            command = [sys.executable, __file__, "--one", str(size), optimizer, "--steps", str(args.steps)]
            completed = subprocess.run(command, capture_output=True, text=True, check=True)
            row = json.loads(completed.stdout.splitlines()[-1])
            error = row["estimate_mb"] / row["peak_mb"] - 1
            print(
                f"{size:>5} {optimizer:>9} {args.steps:>5} {row['estimate_mb']:>11.0f} {row['peak_mb']:>11.0f}"
                f" {error:>+7.1%}"
            )


if __name__ == "__main__":
    main()
