"""Seconds to a picture with nst's defaults, its compiling shown apart (the GPU check's picture
and print, docs/backends.md).

    NST_WEIGHTS=... python benchmarks/picture_time.py [--size 512] [--steps N] [--json OUT]

Runs ``stylize(cat.jpg, starry-night.jpg, size=N)`` with every other setting its default (the
painting ladder, 128, 256 and 512 px, and the output size's steps by its size, 14 at 512 px;
above 1024 px a print's ladder on from 512 px, fewer steps at each larger size) in this
process, after loading VGG19, and times each step from the call. At each size the first step
also compiles the size's step (and the size sets up its targets): its time beyond the
size's median step is counted as compiling and setting up; the rest is the run's own time.
Prints, for the run and each size, the wall time, that time apart, the median step, and the
peak memory of the device (the GPU's, on one) and of the process.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "examples" / "cat.jpg"
STYLE = ROOT / "examples" / "starry-night.jpg"


def measure(size: int, steps: int | None) -> dict:
    from nst import Options, stylize
    from nst.core import backend
    from nst.core.features import load_vgg19

    load_vgg19(Options().resolved_weights())  # once per process, as in a long-lived server: not the picture's
    stamps: list[tuple[int, float]] = []  # (size index, seconds since the call) after each step
    started = time.perf_counter()

    def record(progress) -> None:
        stamps.append((progress.scale, time.perf_counter()))

    result = stylize(CONTENT, STYLE, size=size, steps=steps, callback=record)
    wall = time.perf_counter() - started
    sizes = []
    begun = started
    report = result.report
    for index, (scale_size, taken) in enumerate(zip(report["sizes"], report["steps_per_scale"], strict=True)):
        times = [stamp for scale, stamp in stamps if scale == index + 1]
        durations = [later - earlier for earlier, later in zip([begun, *times], times, strict=False)]
        median = statistics.median(durations[1:] or durations)
        sizes.append({"size": scale_size["size"], "steps": taken, "seconds": round(times[-1] - begun, 3),
                      "first_step_s": round(durations[0], 3), "median_step_s": round(median, 5),
                      "compiling_s": round(durations[0] - median, 3), "tile": scale_size.get("tile")})  # fmt: skip
        begun = times[-1]
    compiling = sum(entry["compiling_s"] for entry in sizes)
    return {
        "size": size,
        "shape": list(result.pixels.shape[:2]),
        "backend": backend.name(),
        "device": backend.device(),
        "wall_s": round(wall, 3),
        "compiling_s": round(compiling, 3),
        "without_compiling_s": round(wall - compiling, 3),
        "sizes": sizes,
        "peak_device_mb": backend.peak_device_memory_mb(),
        "peak_host_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, help="the output size's (default nst's: by the size)")
    parser.add_argument("--json", help="also write the row to this file")
    args = parser.parse_args()
    row = measure(args.size, args.steps)
    device_memory = f", peak device memory {row['peak_device_mb']:.0f} MB" if row["peak_device_mb"] else ""
    print(f"{args.size} px ({row['shape'][1]}x{row['shape'][0]}), {row['backend']} on {row['device']}: "
          f"{row['wall_s']:.2f} s, of which compiling and setting up {row['compiling_s']:.2f} s "
          f"({row['without_compiling_s']:.2f} s without); peak RSS {row['peak_host_mb']:.0f} MB"
          f"{device_memory}")  # fmt: skip
    print(f"{'size':>6} {'steps':>6} {'seconds':>8} {'first step':>11} {'median step':>12} {'tile':>6}")
    for entry in row["sizes"]:
        print(f"{entry['size']:>6} {entry['steps']:>6} {entry['seconds']:>8.2f} {entry['first_step_s']:>11.3f} "
              f"{entry['median_step_s']:>12.4f} {entry['tile'] or 'whole':>6}")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps(row, indent=2) + "\n")


if __name__ == "__main__":
    main()
