"""How closely --time-budget keeps its word: wall time of stylize against the budget.

    NST_WEIGHTS=... python benchmarks/time_budget.py [--size 512] [--budgets 30 60 120] [--busy 0 1]

Each budget runs the default method in a fresh process, timed from the call of stylize
(model already loaded), as a user's run is; the table shows the deviation from the budget and
the sizes the plan dropped because the budget could not finish them. ``--busy N`` runs each
budget again while N other processes keep a core each busy, as on a shared machine.
"""

from __future__ import annotations

import argparse
import contextlib
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
        "dropped": [size["size"] for size in result.report["sizes"] if "dropped" in size],
    }


@contextlib.contextmanager
def busy(processes: int):
    """``processes`` other processes, each keeping a core busy until the block ends."""
    spinning = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(processes)]
    try:
        yield
    finally:
        for process in spinning:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--budgets", type=float, nargs="+", default=[30, 60, 120])
    parser.add_argument(
        "--scales", type=int, nargs="+", default=[0, 1], help="ladder lengths to try (0: the default painting ladder)"
    )
    parser.add_argument("--busy", type=int, nargs="+", default=[0], help="other busy processes to run beside")
    parser.add_argument("--one", nargs=2, type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run(args.size, args.one[0], int(args.one[1]))))
        return
    print(
        f"{'size':>4} {'scales':>6} {'busy':>4} {'budget s':>8} {'wall s':>7} {'deviation':>9}"
        f" {'steps per scale':>16} {'dropped':>10} {'objective':>10}"
    )
    for load in args.busy:
        for scales in args.scales:
            for budget in args.budgets:
                command = [sys.executable, __file__, "--size", str(args.size), "--one", str(budget), str(scales)]
                with busy(load):
                    finished = subprocess.run(command, capture_output=True, text=True, check=True)
                row = json.loads(finished.stdout.splitlines()[-1])
                deviation = (row["wall_s"] - budget) / budget
                steps = ",".join(map(str, row["steps"]))
                dropped = ",".join(map(str, row["dropped"])) or "-"
                print(
                    f"{args.size:>4} {scales:>6} {load:>4} {budget:>8.0f} {row['wall_s']:>7.1f} {deviation:>+9.1%}"
                    f" {steps:>16} {dropped:>10} {row['total']:>10.4g}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
