"""A print from the command line, as a user makes it, measured: peak memory, time, how each
size was run, the objective, and seams at the tile period; and a sheet of tile corners at 100%.

    NST_WEIGHTS=... python benchmarks/print_size.py [--size 4096] [--max-memory 6000]
        [--time-budget 3600] [--photo PATH] [--painting PATH] [--out docs/print] [--busy N]

Runs ``nst PHOTO PAINTING --size N -o OUT/print-N.png --max-memory MB --time-budget S --report``
under /usr/bin/time (its maximum resident set size is the peak, the whole process's), then
reads the report. ``seams``: the grid measure at the tile period (boundaries on multiples of
the tile, against the photo's, nst.media.measures.grid), 1.00 = no seam; the goal is at most 1.05.
``--busy N``: N other processes keep a core each busy while it runs, as on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image
from time_budget import busy  # benchmarks/ is on the path when a benchmark runs as a script

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT.parent / "shared" / "images" / "large" / "photo-ladybird-2560.jpg"
PAINTING = ROOT / "examples" / "starry-night.jpg"


def corners_sheet(picture: Image.Image, tile: int, path: Path, crop: int = 192) -> None:
    """Crops of ``crop`` px around four tile corners near the centre, at 100%, side by side."""
    width, height = picture.size
    corners = [(x, y) for y in range(tile, height, tile) for x in range(tile, width, tile)]
    corners.sort(key=lambda corner: (corner[0] - width / 2) ** 2 + (corner[1] - height / 2) ** 2)
    sheet = Image.new("RGB", (4 * crop + 3 * 8, crop), "white")
    for index, (x, y) in enumerate(corners[:4]):
        box = (x - crop // 2, y - crop // 2, x + crop // 2, y + crop // 2)
        sheet.paste(picture.crop(box), (index * (crop + 8), 0))
    sheet.save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--max-memory", type=float, default=6000)
    parser.add_argument("--time-budget", type=float, default=3600)
    parser.add_argument("--photo", type=Path, default=PHOTO)
    parser.add_argument("--painting", type=Path, default=PAINTING)
    parser.add_argument("--out", type=Path, default=Path("docs/print"))
    parser.add_argument("--busy", type=int, default=0, help="other busy processes to run beside")
    args = parser.parse_args()
    from nst.media.images import to_array
    from nst.media.measures import grid

    args.out.mkdir(parents=True, exist_ok=True)
    output, report_path = args.out / f"print-{args.size}.png", args.out / f"print-{args.size}.json"
    command = [sys.executable, "-m", "nst", args.photo, args.painting, "--size", args.size, "-o", output,
               "--max-memory", args.max_memory, "--time-budget", args.time_budget, "--report", report_path,
               "--overwrite", "--quiet"]  # fmt: skip
    started = time.perf_counter()
    with busy(args.busy):
        completed = subprocess.run(["/usr/bin/time", "-v", *map(str, command)], capture_output=True, text=True,
                                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})  # fmt: skip
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        sys.exit(completed.stderr[-3000:])
    peak_kb = int(
        next(line for line in completed.stderr.splitlines() if "Maximum resident set size" in line).split()[-1]
    )
    report = json.loads(report_path.read_text())
    print(f"nst {args.photo.name} {args.painting.name} --size {args.size} --max-memory {args.max_memory:.0f}"
          f" --time-budget {args.time_budget:.0f}, {args.busy} busy:"
          f" {wall / 60:.1f} min, peak RSS {peak_kb / 1024:.0f} MB")  # fmt: skip
    print(f"{'size':>5} {'shape':>10} {'tile':>5} {'halo':>4} {'tiles':>5} {'optimizer':>9} {'estimate MB':>11}"
          f" {'steps':>5} {'seconds':>7} {'peak MB so far':>14}")  # fmt: skip
    for entry in report["sizes"]:
        shape = "x".join(map(str, entry["shape"]))
        tile, halo = entry["tile"] or "-", entry["halo"] or "-"
        optimizer = f"lbfgs {entry['lbfgs_history']}" if entry["optimizer"] == "lbfgs" else entry["optimizer"]
        print(f"{entry['size']:>5} {shape:>10} {tile:>5} {halo:>4} {entry['tiles']:>5} {optimizer:>9}"
              f" {entry['estimate_mb']:>11} {entry['steps']:>5} {entry['seconds']:>7}"
              f" {entry.get('peak_mb') or 'dropped':>14}")  # fmt: skip
        if "dropped" in entry:
            print(f"      dropped: {entry['dropped']}")
    final = report["final"]
    with Image.open(output) as picture:
        pixels = to_array(picture)
        photo = to_array(Image.open(args.photo).convert("RGB").resize(picture.size, Image.Resampling.LANCZOS))
        tile = report["sizes"][-1]["tile"]
        seams = grid(pixels, photo, blocks=(tile,)) if tile else float("nan")
        if tile:
            corners_sheet(picture, tile, args.out / f"print-{args.size}-corners.png")
        picture.resize((picture.width // 8, picture.height // 8), Image.Resampling.LANCZOS).save(
            args.out / f"print-{args.size}-small.jpg", quality=90
        )
    print(f"objective {final['total']:.4g} (content {final['content']:.4g}, style {final['style']:.4g});"
          f" seams at the tile period {seams:.3f}; grid {final['grid']:.3f},"
          f" noise {final['noise']:.3f} (the report's: the painting at the print's size),"
          f" lattice {final['lattice']:.3f}, lines {final['lines']:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
