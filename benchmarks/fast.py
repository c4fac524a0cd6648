"""What the fast network's picture costs: ``nst --fast`` as a person runs it, and in a process
that has it loaded (the web app's first frame), at each size.

    python benchmarks/fast.py [--sizes 256 512 1024] [--repeats 5]

Needs the fast extra (pip install 'nst[fast]'); no VGG19 weights, no TensorFlow. For each size:

* ``nst --fast`` wall: the command in a fresh process, from start to exit (Python starting,
  nst's imports, onnxruntime loading the network, the picture, the PNG written), median of
  ``--repeats`` runs;
* first in a process: :func:`nst.run.fast.stylize_fast` the first time in a fresh process,
  the network's loading included (one run each);
* in-process: the same call once the network is loaded (the web app loads it when it starts),
  median of ``--repeats`` calls; ``network`` is the network's part of it
  (:func:`nst.media.feedforward.paint`), the rest is opening and resizing the images.

The sizes take turns in each round, so that other work on the machine slows them alike. The
load average is printed with the table: figures are comparable only under similar loads.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "examples" / "cat.jpg"
STYLE = ROOT / "examples" / "starry-night.jpg"


def in_process(sizes: list[int], repeats: int) -> dict:
    """Seconds of the first call of each size's fast picture in this process, then of later ones."""
    from nst.media import feedforward
    from nst.options import Options
    from nst.run import ladder
    from nst.run.fast import stylize_fast
    from nst.run.inputs import Inputs

    first = {}
    began = time.perf_counter()
    stylize_fast(CONTENT, STYLE, Options(size=sizes[0]), measure=False)
    first[sizes[0]] = time.perf_counter() - began
    later: dict[int, list[float]] = {size: [] for size in sizes}
    network: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(repeats):
        for size in sizes:
            options = Options(size=size)
            began = time.perf_counter()
            stylize_fast(CONTENT, STYLE, options, measure=False)
            later[size].append(time.perf_counter() - began)
            photo, paintings = Inputs.open(CONTENT, STYLE, options).at_size(size, ladder.painting_side(options))
            began = time.perf_counter()
            feedforward.paint(photo, paintings, [1.0])
            network[size].append(time.perf_counter() - began)
    return {"first": first, "later": later, "network": network}


def command_seconds(size: int, folder: Path) -> float:
    output = folder / f"fast-{size}.png"
    command = [sys.executable, "-m", "nst", CONTENT, STYLE, "--fast", "--size", size, "-o", output, "--overwrite"]
    began = time.perf_counter()
    subprocess.run([str(part) for part in command], check=True, capture_output=True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a fresh process's first call
    args = parser.parse_args()
    if args.one:
        print(json.dumps(in_process([args.one], 0)["first"][args.one]))
        return
    walls: dict[int, list[float]] = {size: [] for size in args.sizes}
    firsts: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            fresh = [sys.executable, __file__, "--one", str(size)]
            firsts[size] = json.loads(subprocess.run(fresh, capture_output=True, text=True, check=True).stdout)
        for _ in range(args.repeats):
            for size in args.sizes:
                walls[size].append(command_seconds(size, Path(folder)))
    loaded = in_process(args.sizes, args.repeats)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; medians of {args.repeats} runs")
    print(f"{'size':>5} {'nst --fast wall s':>17} {'first in a process s':>20} {'in-process s':>12} {'network s':>9}")
    for size in args.sizes:
        print(
            f"{size:>5} {statistics.median(walls[size]):>17.2f} {firsts[size]:>20.2f}"
            f" {statistics.median(loaded['later'][size]):>12.2f} {statistics.median(loaded['network'][size]):>9.2f}"
        )


if __name__ == "__main__":
    main()
