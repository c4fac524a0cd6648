"""How closely --time-budget keeps its word: wall time of stylize against the budget.

    NST_WEIGHTS=... python benchmarks/time_budget.py [--size 512] [--budgets 30 60 120]

Each budget runs the default method in a fresh process, timed from the call of stylize
(model already loaded), as a user's run is; the table shows the deviation from the budget.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "examples" / "cat.jpg"
STYLE = ROOT / "examples" / "starry-night.jpg"


def run(size: int, budget: float, scales: int) -> dict:
    from nst import Options, stylize
    from nst.core.features import load_vgg19

    load_vgg19(Options().resolved_weights())
    result = stylize(CONTENT, STYLE, size=size, time_budget=budget, scales=scales or None)  # 0: the default ladder
    return {
        "wall_s": result.report["wall_s"],
        "steps": result.report["steps_per_scale"],
        "total": result.report["final"]["total"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--budgets", type=float, nargs="+", default=[30, 60, 120])
    parser.add_argument(
        "--scales", type=int, nargs="+", default=[0, 1], help="ladder lengths to try (0: the default painting ladder)"
    )
    parser.add_argument("--one", nargs=2, type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run(args.size, args.one[0], int(args.one[1]))))
        return
    print(
        f"{'size':>4} {'scales':>6} {'budget s':>8} {'wall s':>7} {'deviation':>9}"
        f" {'steps per scale':>16} {'objective':>10}"
    )
    for scales in args.scales:
        for budget in args.budgets:
            command = [sys.executable, __file__, "--size", str(args.size), "--one", str(budget), str(scales)]
            row = json.loads(
                subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()[-1]
            )
            deviation = (row["wall_s"] - budget) / budget
            steps = ",".join(map(str, row["steps"]))
            print(
                f"{args.size:>4} {scales:>6} {budget:>8.0f} {row['wall_s']:>7.1f} {deviation:>+9.1%} {steps:>16}"
                f" {row['total']:>10.4g}"
            )


if __name__ == "__main__":
    main()
