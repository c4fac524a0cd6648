"""The spread of every figure a test bounds, over the machine's kernels, threads and seeds.

A test that bounds a figure a machine can move (a picture measure, a loss against a reference, a
memory peak) states it through ``tests.helpers.within``, which, where ``NST_FIGURES`` names a file,
adds the figure there. This runs those tests under each set-up and prints, for each figure, its
range over all of them, its bound and the margin (how many times over or under the bound the
worst value is): the table of docs/tests.md.

Set-ups: the kernels (TensorFlow's default oneDNN ones; Eigen's, ``TF_ENABLE_ONEDNN_OPTS=0``;
oneDNN held to an older instruction set, ``ONEDNN_MAX_CPU_ISA=AVX2``), each once with the
machine's CPUs and the tests' random numbers from their own seeds, and once on one CPU
(``taskset -c 0``) with the seeds moved by one (``NST_TEST_SEED``); and the core tests on JAX
and PyTorch. The tests run are those that record a figure in the first set-up, which runs the
whole suite.

    .venv/bin/python benchmarks/bound_spread.py --out benchmarks/bound_spread.jsonl
    .venv/bin/python benchmarks/bound_spread.py --table benchmarks/bound_spread.jsonl
"""

from __future__ import annotations

import argparse
import itertools
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


def run(label: str, tests: list[str], environment: dict[str, str], one_cpu: bool, records: Path) -> float:
    """The tests under one set-up, their figures added to ``records`` with the set-up's label."""
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as figures:
        env = {**os.environ, **environment, "NST_FIGURES": figures.name}
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup"]
        command = (["taskset", "-c", "0"] if one_cpu else []) + command + tests
        began = time.monotonic()
        finished = subprocess.run(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        seconds = time.monotonic() - began
        summary = finished.stdout.strip().splitlines()[-1] if finished.stdout.strip() else finished.stderr[-300:]
        print(f"{label}: {summary} ({seconds:.0f} s)", flush=True)
        with records.open("a") as out:
            for line in figures:
                out.write(json.dumps({**json.loads(line), "setup": label}) + "\n")
    return seconds


def measure(records: Path) -> None:
    records.unlink(missing_ok=True)
    run("oneDNN, 2 CPUs, seed 0", [], {}, one_cpu=False, records=records)
    tests = sorted({json.loads(line)["test"] for line in records.read_text().splitlines()})
    # Each kernel with both thread counts and both seeds, paired (the whole product would take 5 hours).
    for (kernel, environment), (cpus, seed) in itertools.product(KERNELS.items(), ((2, 0), (1, 1))):
        if (kernel, cpus, seed) != ("oneDNN", 2, 0):
            label = f"{kernel}, {cpus} CPU{'s' if cpus > 1 else ''}, seed {seed}"
            run(label, tests, {**environment, "NST_TEST_SEED": str(seed)}, one_cpu=cpus == 1, records=records)
    for backend in BACKENDS:
        run(f"{backend}, core tests", ["-m", "core"], {"KERAS_BACKEND": backend}, one_cpu=False, records=records)


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
        test = record["test"].split("::")[-1].split("[")[0]
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
    parser.add_argument("--table", type=Path, help="print the table of figures written by --out")
    args = parser.parse_args()
    if args.out:
        measure(args.out)
    print(table(args.out or args.table))


if __name__ == "__main__":
    main()
