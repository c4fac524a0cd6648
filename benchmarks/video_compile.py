"""Video before and after its frames shared one compiled step, with and without XLA, side by side.

    NST_WEIGHTS=... python benchmarks/video_compile.py [CLIP] [--frames 5] [--rounds 2] [--size 256]
        [--before 8c1d1a6]

Before, each frame built its objective and traced (and with XLA compiled) its step again, since
the frame's targets were constants of the step; after, the targets are inputs and the frames
share one step. "Before" is the code of the git revision ``--before`` (the last one without the
change), extracted to a temporary folder and imported instead of this checkout's ``src``.

Each way stylizes the clip's first ``--frames`` frames with nst video's defaults (100 steps for
the first frame, 30 for each later one) in a fresh process, as ``nst video`` does, into a folder
of PNG frames; the four ways take turns, ``--rounds`` times. The table gives medians over the
rounds of the call's wall time (TensorFlow's start and the first frame included: the code after
the change starts TensorFlow before the first frame's clock, so the frames' own seconds would
favour it), of the later frames' median seconds, and the 60-frame clip projected from them (the
call, then as many more later frames as make 60).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIP = ROOT.parent / "shared" / "videos" / "walkers-6s.mp4"
PAINTING = ROOT / "examples" / "starry-night.jpg"
WAYS = [("before", False), ("after", False), ("before", True), ("after", True)]


def one(clip: Path, frames: int, size: int, jit_compile: bool) -> None:
    """Stylizes the clip's first frames and prints each frame's seconds, as JSON."""
    from nst.run.video import stylize_video

    with tempfile.TemporaryDirectory() as folder:
        result = stylize_video(
            clip, PAINTING, Path(folder) / "frames", size=size, frames=frames, jit_compile=jit_compile
        )
    print(json.dumps({"seconds": result.seconds, "steps": result.steps, "wall_s": result.wall_s}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", type=Path, default=CLIP)
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--before", default="8c1d1a6", help="the git revision of the code before the change")
    parser.add_argument("--one", choices=["xla", "no-xla"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.clip, args.frames, args.size, args.one == "xla")
        return
    with tempfile.TemporaryDirectory() as before:
        archive = subprocess.run(["git", "archive", args.before, "src"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", before], input=archive.stdout, check=True)
        sources = {"before": f"{before}/src", "after": str(ROOT / "src")}
        runs: dict[tuple[str, bool], list[dict]] = {way: [] for way in WAYS}
        for round_number in range(args.rounds):
            for code, xla in WAYS:
                command = [sys.executable, __file__, str(args.clip), "--frames", str(args.frames)]
                command += ["--size", str(args.size), "--one", "xla" if xla else "no-xla"]
                env = {**os.environ, "PYTHONPATH": sources[code]}
                finished = subprocess.run(command, capture_output=True, text=True, env=env)
                if finished.returncode != 0:
                    sys.exit(f"{code}, XLA {xla}: failed: {finished.stderr.strip()[-2000:]}")
                run = json.loads(finished.stdout.splitlines()[-1])
                runs[(code, xla)].append(run)
                print(f"round {round_number + 1}, {code}, XLA {'on' if xla else 'off'}: {run['wall_s']:.1f} s,"
                      f" frames {run['seconds']}", flush=True)  # fmt: skip
    print(f"\n{args.clip.name}, first {args.frames} frames at {args.size} px, medians of {args.rounds} rounds")
    print(f"| code | XLA | {args.frames} frames (the call) | later frames (median) | 60-frame clip (projected)"
          " | vs before, same XLA |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    projected = {}
    for code, xla in WAYS:
        wall = statistics.median(run["wall_s"] for run in runs[(code, xla)])
        later = statistics.median(statistics.median(run["seconds"][1:]) for run in runs[(code, xla)])
        projected[(code, xla)] = wall + (60 - args.frames) * later
        ratio = projected[(code, xla)] / projected[("before", xla)]
        print(f"| {code} | {'on' if xla else 'off'} | {wall:.1f} s | {later:.1f} s "
              f"| {projected[(code, xla)] / 60:.1f} min | {ratio:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
