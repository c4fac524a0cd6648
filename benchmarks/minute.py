"""A painted picture in a minute: the default run against nst 0.2's, side by side in one run.

    NST_WEIGHTS=... python benchmarks/minute.py                      # 512 px, every bundled pair, 3 rounds
    NST_WEIGHTS=... python benchmarks/minute.py --size 256 --rounds 1

Each run is the command a user types, ``nst PHOTO PAINTING -o OUT.png --report R.json`` (with
``--preset classic`` for nst 0.2's default), in a fresh process and timed from its start to its
end: importing TensorFlow, loading VGG19 and compiling included. The presets alternate within a
round, so that a machine that slows down slows both alike; the table gives medians over the
rounds. From the report: VGG19 passes at each size; then every measure of the quality bounds
(docs/quality.md): the plain network's content loss, coarse/2 and coarse/4 (the style loss of the
picture halved and quartered against the painting's, over the photo's), grid, noise, outliers
(per mille, and the painting's own) and lattice.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PAIRS = [(photo, painting) for photo in ("cat", "coffee") for painting in ("starry-night", "the-scream")]
RUNS = {"0.2 (classic)": ["--preset", "classic"], "default": []}


def timed_run(photo: str, painting: str, size: int, flags: list[str], out: Path) -> dict:
    output, report = out / f"{photo}-{painting}-{len(flags)}.png", out / "report.json"
    command = [sys.executable, "-m", "nst", str(EXAMPLES / f"{photo}.jpg"), str(EXAMPLES / f"{painting}.jpg")]
    command += ["-o", str(output), "--size", str(size), "--report", str(report), "--overwrite", "-q", *flags]
    started = time.perf_counter()
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    data = json.loads(report.read_text())
    passes = {entry["size"]: entry["steps"] for entry in data["sizes"]}
    return {"wall_s": wall, "passes": passes, "final": data["final"], "output": output}


def quality(output: Path, photo: str, painting: str, size: int) -> dict:
    from nst import Options, score
    from nst.run.api import PLAIN_OBJECTIVE, coarse_style

    photo_path, painting_path = EXAMPLES / f"{photo}.jpg", EXAMPLES / f"{painting}.jpg"
    row = {"content": score(output, photo_path, painting_path, Options(size=size, **PLAIN_OBJECTIVE))["content"]}
    row.update({f"coarse/{n}": coarse_style(output, photo_path, painting_path, size, n) for n in (2, 4)})
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pairs", type=int, help="only the first N pairs")
    args = parser.parse_args()
    pairs = PAIRS[: args.pairs] if args.pairs else PAIRS
    rows: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        for _ in range(args.rounds):
            for photo, painting in pairs:
                for name, flags in RUNS.items():
                    run = timed_run(photo, painting, args.size, flags, out)
                    row = rows.setdefault((name, f"{photo}/{painting}"), {**run, "wall_s": []})
                    row["wall_s"].append(run["wall_s"])
                    print(f"{name:>14} {photo}/{painting}: {run['wall_s']:.1f} s", file=sys.stderr, flush=True)
        for (_, pair), row in rows.items():
            row.update(quality(row["output"], *pair.split("/"), args.size))
    print(f"\n{args.size} px, medians over {args.rounds} round(s), wall time of the whole command:\n")
    print(
        "| run | pair | seconds | VGG19 passes by size | content | coarse/2 | coarse/4 | grid | noise "
        "| outliers (painting) | lattice |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (name, pair), row in rows.items():
        final = row["final"]
        passes = ", ".join(f"{steps}@{size}" for size, steps in row["passes"].items())
        print(
            f"| {name} | {pair} | {statistics.median(row['wall_s']):.1f} | {passes} | {row['content']:.0f}"
            f" | {row['coarse/2']:.3f} | {row['coarse/4']:.3f} | {final['grid']:.3f} | {final['noise']:.2f}"
            f" | {final['outliers']:.1f} ({final['outliers_painting']:.1f}) | {final['lattice']:.2f} |"
        )
    for name in RUNS:
        mine = [row for (other, _), row in rows.items() if other == name]
        medians = {key: statistics.median(row[key] for row in mine) for key in ("content", "coarse/2", "coarse/4")}
        seconds = statistics.median(statistics.median(row["wall_s"]) for row in mine)
        print(f"\n{name}: median {seconds:.1f} s, " + ", ".join(f"{k} {v:.3g}" for k, v in medians.items()))


if __name__ == "__main__":
    main()
