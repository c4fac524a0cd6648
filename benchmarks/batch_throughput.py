"""Batch throughput: pictures per hour for 8 photos at 256 px, ``nst batch`` against ``nst`` run 8
times, and Ray's overhead per item on several nodes, with a projection to 1,000 photos at 1024 px.

    NST_WEIGHTS=... python benchmarks/batch_throughput.py [--steps 20] [--repeats 1]

Throughput: eight photos (the three of ../shared/images, mirrored, and two crops, so that each
differs) with The Starry Night at 256 px, ``--steps`` each, made three ways, each timed from the
command's start to its exit (Python, TensorFlow, Ray's start-up and per-item costs included):

* ``nst`` 8 times, one process after the other (each loads TensorFlow and VGG19 and compiles);
* ``nst batch --workers 1 --cpus-per-worker 2``: one worker with 2 TensorFlow threads;
* ``nst batch --workers 2 --cpus-per-worker 1``: two workers with 1 thread each.

The three run in turn within a round; the table shows the medians of ``--repeats`` rounds.

Overhead: a cluster of three nodes on this machine (``ray.cluster_utils.Cluster``: a head with
no CPUs for work, as on a real cluster, and two nodes of 1 CPU), against one local node with 2
workers. Six 1024 px photos (crops of the large ladybird photo, JPEG) at ``--size 1024`` with
``--steps 0``: the least work that still sends a 1024 px photo and brings back a 1024 px PNG.
Per item, ``overhead_s`` from the summary: the time from handing the item to a started worker
to having its answer, beyond the worker's own run (sending, scheduling, returning); medians.

Projection: the seconds per step per pixel measured in the 256 px runs (from the reports'
history, after compiling), scaled to a 1024x683 photo and 100 steps, plus the measured fixed
costs and overhead, for 1, 10 and 100 nodes like this machine (2 cores each).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "images"
PHOTOS = [SHARED / f"content-{name}.jpg" for name in ("astronaut", "cat", "coffee")]
LARGE = SHARED / "large" / "photo-ladybird-2560.jpg"
PAINTING = ROOT / "examples" / "starry-night.jpg"
NST = [sys.executable, "-m", "nst"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
BATCH_WAYS = {"batch, 1 worker x 2 threads": (1, 2), "batch, 2 workers x 1 thread": (2, 1)}
WAYS = ("nst 8 times", *BATCH_WAYS)


def eight_photos(folder: Path) -> list[Path]:
    """Eight different photos: the three, mirrored, and two crops of the first two."""
    images = []
    for path in PHOTOS:
        with Image.open(path) as image:
            images += [image.copy(), ImageOps.mirror(image)]
    for path in PHOTOS[:2]:
        with Image.open(path) as image:
            width, height = image.size
            images.append(image.crop((width // 8, height // 8, width * 7 // 8, height * 7 // 8)))
    paths = []
    for index, image in enumerate(images):
        paths.append(folder / f"photo{index}.jpg")
        image.convert("RGB").save(paths[-1], quality=92)
    return paths


def large_photos(folder: Path) -> list[Path]:
    """Eight 1024 px crops of the 2560x1600 photo, each at a different place."""
    paths = []
    with Image.open(LARGE) as image:
        for index in range(8):
            left, top = index * 150, (index % 3) * 150
            crop = image.crop((left, top, left + 1536, top + 1024)).resize((1024, 683), Image.Resampling.LANCZOS)
            paths.append(folder / f"large{index}.jpg")
            crop.save(paths[-1], quality=92)
    return paths


def timed(command: list) -> float:
    started = time.perf_counter()
    subprocess.run([str(part) for part in command], check=False, env=ENV, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    return time.perf_counter() - started


def one_round(photos: list[Path], folder: Path, steps: int) -> tuple[dict[str, float], dict[str, list[dict]]]:
    """The three ways once; returns their wall times and the batches' reports."""
    settings = ["--size", 256, "--steps", steps]
    single = folder / "single"
    single.mkdir(parents=True)
    started = time.perf_counter()
    for photo in photos:
        timed([*NST, photo, PAINTING, "-o", single / f"{photo.stem}.png", "-q", *settings])
    walls, reports = {WAYS[0]: time.perf_counter() - started}, {}
    for way, (workers, threads) in BATCH_WAYS.items():
        outdir = folder / f"batch-{workers}"
        command = [*NST, "batch", *photos, "--style", PAINTING, "-o", outdir, "-q", *settings]
        walls[way] = timed([*command, "--workers", workers, "--cpus-per-worker", threads])
        reports[way] = [json.loads(path.read_text()) for path in outdir.glob("photo*.json")]
        assert len(reports[way]) == len(photos), f"{way}: {len(reports[way])} pictures made of {len(photos)}"
    return walls, reports


def step_rate(reports: list[dict]) -> float:
    """Seconds per step per pixel, from the history (every 10 steps) after the first ten (compiling)."""
    rates = []
    for report in reports:
        history = [entry for entry in report["history"] if entry["step"] >= 10]
        width, height = report["params"]["output_size"]
        seconds = (history[-1]["elapsed_s"] - history[0]["elapsed_s"]) / (history[-1]["step"] - history[0]["step"])
        rates.append(seconds / (width * height))
    return statistics.median(rates)


def fixed_cost(reports: list[dict], rate: float) -> float:
    """Seconds of an item that are not its steps: opening, targets, compiling, final evaluation."""
    return statistics.median(
        report["wall_s"] - rate * math.prod(report["params"]["output_size"]) * sum(report["steps_per_scale"])
        for report in reports
    )


def overheads(photos: list[Path], folder: Path, address: str | None) -> tuple[float, float, int]:
    """Median overhead per item, the median worker's run, and the number of nodes used."""
    import ray

    from nst import Options
    from nst.run import batch

    if address is None:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    else:
        ray.init(address=address, log_to_driver=False, logging_level="ERROR")
    try:
        options = Options(size=1024, steps=0, jit_compile=False)
        summary = batch.stylize_many(photos, [PAINTING], folder, options, cluster=batch.Workers(count=2))
    finally:
        ray.shutdown()
    assert all(outcome.status == batch.DONE for outcome in summary.items), summary.failed
    nodes = len({outcome.node for outcome in summary.items})
    overhead = statistics.median(outcome.overhead_s for outcome in summary.items)
    return overhead, statistics.median(outcome.seconds for outcome in summary.items), nodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--overhead-only", action="store_true", help="only the overhead per item, no throughput")
    args = parser.parse_args()
    if not os.environ.get("NST_WEIGHTS"):
        sys.exit("set NST_WEIGHTS to the VGG19 weights file (../shared/weights/vgg19_notop_q8.h5)")

    with tempfile.TemporaryDirectory(prefix="nst-batch-bench-") as temporary:
        folder = Path(temporary)
        reports = None if args.overhead_only else throughput(folder, args.steps, args.repeats)
        overhead = overhead_table(folder)
        if reports is not None:
            project(reports, overhead)


def throughput(folder: Path, steps: int, repeats: int) -> dict[str, list[dict]]:
    """Prints the throughput table; returns the batches' reports."""
    photos = eight_photos(folder)
    rounds, reports = [], {way: [] for way in BATCH_WAYS}
    for index in range(repeats):
        walls, made = one_round(photos, folder / f"round{index}", steps)
        rounds.append(walls)
        for way in BATCH_WAYS:
            reports[way] += made[way]
    print(f"\n8 photos at 256 px, {steps} L-BFGS steps each, medians of {repeats} round(s)\n")
    print("| way | wall | pictures per hour | vs nst 8 times |")
    print("|---|---|---|---|")
    medians = {way: statistics.median(walls[way] for walls in rounds) for way in WAYS}
    for way in WAYS:
        per_hour = 8 * 3600 / medians[way]
        print(f"| {way} | {medians[way]:.1f} s | {per_hour:.0f} | {medians[WAYS[0]] / medians[way]:.2f}x |")
    return reports


def overhead_table(folder: Path) -> float:
    """Prints the overhead table; returns the overhead per item across nodes."""
    from ray.cluster_utils import Cluster

    large = large_photos(folder)[:6]  # 3 items per worker
    local = overheads(large, folder / "local", None)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
    try:
        for _ in range(2):
            cluster.add_node(num_cpus=1)
        remote = overheads(large, folder / "cluster", cluster.address)
    finally:
        cluster.shutdown()
    print("\n6 photos of 1024 px at --size 1024, --steps 0, 2 workers\n")
    print("| Ray | nodes used | worker's run (median) | overhead per item (median) |")
    print("|---|---|---|---|")
    for name, (overhead, seconds, nodes) in (("local, 1 node", local), ("Cluster, head + 2 nodes", remote)):
        print(f"| {name} | {nodes} | {seconds:.2f} s | {overhead * 1000:.0f} ms |")
    return remote[0]


def project(reports: dict[str, list[dict]], overhead: float) -> None:
    """1,000 photos at 1024x683, 100 steps, on nodes like this one, each run the better batch way."""
    print("\nProjection to 1024x683 px, 100 steps per photo, on nodes like this machine\n")
    print("| way | s per step per Mpx | fixed per item | one item | nodes | 1,000 photos | pictures per hour |")
    print("|---|---|---|---|---|---|---|")
    for way, (workers, _) in BATCH_WAYS.items():
        rate = step_rate(reports[way])
        fixed = fixed_cost(reports[way], rate)
        item = fixed + 100 * rate * 1024 * 683 + overhead
        for nodes in (1, 10, 100):
            hours = math.ceil(1000 / (workers * nodes)) * item / 3600
            print(
                f"| {way} | {rate * 1e6:.2f} s | {fixed:.1f} s | {item / 60:.1f} min | {nodes} | {hours:.1f} h "
                f"| {1000 / hours:.0f} |"
            )


if __name__ == "__main__":
    main()
