"""Estimated peak memory (nst.run.memory) against the real peak RSS of a run, per size, whole or tiled.

    NST_WEIGHTS=... python benchmarks/memory.py [--sizes 256 512 1024] [--optimizers adam lbfgs] [--steps 40]
    NST_WEIGHTS=... python benchmarks/memory.py --sizes 1024 2048 --max-memory 3000 --steps 3 --scales 1

Each run is a fresh process. L-BFGS stores one more pair of its history per iteration, so
its runs need more steps than its history length (30) for the estimate's workspace to be real.
With ``--max-memory`` or ``--tile`` the sizes that need it run in tiles; the table says how.
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
LARGE = ROOT.parent / "shared" / "images" / "large" / "photo-ladybird-2560.jpg"


def run(size: int, optimizer: str, settings: dict) -> dict:
    from nst import stylize

    content = LARGE if size > 1024 and LARGE.exists() else CONTENT
    result = stylize(content, STYLE, size=size, optimizer=optimizer, **settings)
    last = result.report["sizes"][-1]
    return {
        "estimate_mb": last["estimate_mb"],
        "tile": last["tile"],
        "pairs": last["lbfgs_history"] if optimizer == "lbfgs" else None,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "wall_s": result.report["wall_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--optimizers", nargs="+", default=["adam", "lbfgs"])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--max-memory", type=float)
    parser.add_argument("--tile", type=int)
    parser.add_argument("--scales", type=int, help="1: the output size only (a print's ladder otherwise)")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    settings = {"steps": args.steps, "max_memory": args.max_memory, "tile": args.tile, "scales": args.scales}
    if args.one:
        print(json.dumps(run(int(args.one[0]), args.one[1], settings)))
        return
    print(f"{'size':>5} {'optimizer':>9} {'steps':>5} {'tile':>5} {'pairs':>5} {'estimate MB':>11} {'peak RSS MB':>11}"
          f" {'error':>7} {'time s':>7}")  # fmt: skip
    for optimizer in args.optimizers:
        for size in args.sizes:
            command = [sys.executable, __file__, "--one", str(size), optimizer, "--steps", str(args.steps)]
            for name in ("max_memory", "tile", "scales"):
                if getattr(args, name) is not None:
                    command += [f"--{name.replace('_', '-')}", str(getattr(args, name))]
            completed = subprocess.run(command, capture_output=True, text=True, check=True)
            row = json.loads(completed.stdout.splitlines()[-1])
            error = row["estimate_mb"] / row["peak_mb"] - 1
            print(
                f"{size:>5} {optimizer:>9} {args.steps:>5} {row['tile'] or '-':>5} {row['pairs'] or '-':>5}"
                f" {row['estimate_mb']:>11.0f} {row['peak_mb']:>11.0f} {error:>+7.1%} {row['wall_s']:>7.0f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
