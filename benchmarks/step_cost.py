"""Seconds per optimisation step and peak memory by output size.

    NST_WEIGHTS=... python benchmarks/step_cost.py [--sizes 256 512] [--steps 12]

Each size runs in a fresh process (so its peak RSS is its own): one warm-up step compiles the
step function, then every step is timed; the table shows the median and the spread.
"""

from __future__ import annotations

import argparse
import itertools
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


def measure(size: int, steps: int) -> dict:
    from nst import stylize

    stamps: list[float] = []
    result = stylize(
        CONTENT, STYLE, size=size, steps=steps + 1, callback=lambda progress: stamps.append(time.perf_counter())
    )
    step_seconds = [later - earlier for earlier, later in itertools.pairwise(stamps)]  # drops the compiling first step
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    width, height = result.report["params"]["output_size"]
    return {"size": size, "pixels": f"{width}x{height}", "step_s": step_seconds, "peak_rss_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--steps", type=int, default=12, help="timed steps per size")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.steps)))
        return
    print(f"{'size':>5} {'pixels':>8} {'s/step median':>14} {'min':>7} {'max':>7} {'peak RSS MB':>12}")
    for size in args.sizes:
        command = [sys.executable, __file__, "--one", str(size), "--steps", str(args.steps)]
        row = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
        times = row["step_s"]
        print(
            f"{size:>5} {row['pixels']:>8} {statistics.median(times):>14.3f} {min(times):>7.3f} {max(times):>7.3f}"
            f" {row['peak_rss_mb']:>12.0f}"
        )


if __name__ == "__main__":
    main()
