"""The spread of every figure a test bounds, over the machine's kernels, threads and seeds.

A test that bounds a figure a machine can move (a picture measure, a loss against a reference, a
memory peak) states it through ``tests.helpers.within``, which, where ``NST_FIGURES`` names a file,
adds the figure there. This runs those tests under each set-up and prints, for each figure, its
range over all of them, its bound and the margin (how many times over or under the bound the
worst value is): the table of docs/tests.md.

Set-ups: the kernels (TensorFlow's default oneDNN ones; Eigen's, ``TF_ENABLE_ONEDNN_OPTS=0``;
oneDNN held to an older instruction set, ``ONEDNN_MAX_CPU_ISA=AVX2``), each run two ways: as
``make test`` runs (two processes of one thread each, the tests' own seeds), and in one process
with all the machine's threads and the seeds moved by one (``NST_TEST_SEED``). The first way is
the whole suite, on every backend: give it the figures of ``make test`` runs made with
``NST_FIGURES`` set (``--add``; a fresh clone's run, say), or this runs it. The second way runs the
tests that recorded a figure, and the core tests on JAX and PyTorch.

    .venv/bin/python benchmarks/bound_spread.py --out benchmarks/bound_spread.jsonl \
        [--add "oneDNN=figures.jsonl" --add "Eigen=..." --add "oneDNN AVX2=..."]
    .venv/bin/python benchmarks/bound_spread.py --table benchmarks/bound_spread.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNELS = {
    "oneDNN": {},
    "Eigen": {"TF_ENABLE_ONEDNN_OPTS": "0"},
    "oneDNN AVX2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
}
BACKENDS = ("jax", "torch")


MAKE_TEST = "2 processes of 1 thread, seed 0"
ONE_PROCESS = "1 process of 2 threads, seed 1"


def run(label: str, tests: list[str], environment: dict[str, str], processes: int, records: Path) -> float:
    """The tests under one set-up, their figures added to ``records`` with the set-up's label."""
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as figures:
        env = {**os.environ, **environment, "NST_FIGURES": figures.name}
        weights = ROOT.parent / "shared" / "weights" / "vgg19_notop_q8.h5"  # as make test finds them
        if weights.exists():
            env.setdefault("NST_WEIGHTS", str(weights))
        env.setdefault("NST_CHROMIUM", "/usr/bin/chromium")
        parallel = ["-n", str(processes), "--dist", "loadgroup"] if processes > 1 else ["-p", "no:xdist"]
        command = [sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider", *parallel, *tests]
        began = time.monotonic()
        finished = subprocess.run(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        seconds = time.monotonic() - began
        summary = finished.stdout.strip().splitlines()[-1] if finished.stdout.strip() else finished.stderr[-300:]
        print(f"{label}: {summary} ({seconds:.0f} s)", flush=True)
        for line in finished.stdout.splitlines():  # which failed, and why, in one line each
            if line.startswith("FAILED "):
                print(f"  {line}", flush=True)
        add(label, Path(figures.name), records)
    return seconds


def add(label: str, figures: Path, records: Path) -> None:
    with records.open("a") as out:
        for line in figures.read_text().splitlines():
            record = json.loads(line)
            record["test"] = record["test"].split("@")[0]  # pytest-xdist's group, appended to the ID
            out.write(json.dumps({**record, "setup": label}) + "\n")


def measure(records: Path, made: dict[str, Path], kernels: list[str]) -> None:
    records.unlink(missing_ok=True)
    for kernel, figures in made.items():
        add(f"{kernel}, {MAKE_TEST}", figures, records)
    if not made:
        run(f"oneDNN, {MAKE_TEST}", [], {}, processes=2, records=records)
        for backend in BACKENDS:
            run(f"{backend}, {MAKE_TEST}", ["-m", "core"], {"KERAS_BACKEND": backend}, 2, records)
    # Those of the tests that recorded a figure that this checkout has (figures given by --add may
    # come from a checkout whose tests since moved).
    collect = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    listed = subprocess.run(collect, cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    listed = listed.stdout.splitlines()
    tests = sorted({json.loads(line)["test"] for line in records.read_text().splitlines()} & set(listed))
    for kernel in kernels:
        run(f"{kernel}, {ONE_PROCESS}", tests, {**KERNELS[kernel], "NST_TEST_SEED": "1"}, 1, records)
    for backend in BACKENDS:
        run(f"{backend}, {ONE_PROCESS}", ["-m", "core"], {"KERAS_BACKEND": backend, "NST_TEST_SEED": "1"}, 1, records)


def margin(kind: str, limit: float, values: list[float]) -> str:
    """How many times the worst value is within the bound; where the bound or the value is 0 or
    less (a budget's seconds over it), the headroom instead."""
    upper = kind in ("below", "at_most")
    worst = max(values) if upper else min(values)
    if limit > 0 and worst > 0:
        return f"{limit / worst if upper else worst / limit:.3g}x"
    return f"{limit - worst if upper else worst - limit:+.3g}"


def table(records: Path) -> str:
    """The markdown table: each figure, its range over the set-ups, its bound and the margin."""
    figures: dict[tuple[str, str, str, float], list[float]] = defaultdict(list)
    setups = set()
    for line in records.read_text().splitlines():
        record = json.loads(line)
        test = record["test"].split("@")[0].split("::")[-1].split("[")[0]
        figures[(test, record["figure"], record["bound"], record["limit"])].append(record["value"])
        setups.add(record["setup"])
    sign = {"below": "<", "at_most": "≤", "above": ">", "at_least": "≥"}
    rows = [f"{len(setups)} set-ups; range over all of them (and over every time a test measures the figure).", "",
            "| test | figure | range | bound | margin |", "|---|---|---|---|---|"]  # fmt: skip
    for (test, figure, kind, limit), values in sorted(figures.items()):
        spread = f"{min(values):.4g}" if min(values) == max(values) else f"{min(values):.4g} to {max(values):.4g}"
        rows.append(f"| `{test}` | {figure} | {spread} | {sign[kind]} {limit:.4g} | {margin(kind, limit, values)} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="measure, and write every figure here (JSON lines)")
    parser.add_argument(
        "--add",
        action="append",
        default=[],
        metavar="KERNEL=FILE",
        help="figures a make test run recorded (NST_FIGURES) under KERNEL's set-up",
    )
    parser.add_argument(
        "--kernels",
        nargs="+",
        choices=list(KERNELS),
        default=list(KERNELS),
        help="the kernels run in one process of all the threads (default: all)",
    )
    parser.add_argument("--table", type=Path, help="print the table of figures written by --out")
    args = parser.parse_args()
    if args.out:
        made = {kernel: Path(file) for kernel, file in (given.split("=", 1) for given in args.add)}
        measure(args.out, made, args.kernels)
    print(table(args.out or args.table))


if __name__ == "__main__":
    main()
