"""The issue's speed case: a whole clip with the default settings, timed as a user runs it.

    NST_WEIGHTS=... python benchmarks/video_speed.py [CLIP] [--size 256] [--steps 30] [--out /tmp/walkers.mp4]

Prints the wall time of the whole clip, and the seconds and steps of the first frame and the
median of the others, with the frames per second that makes (flicker is measured by
benchmarks/video_consistency.py). CLIP may be a folder of numbered frames (the GPU check's
720p clip, which needs no ffmpeg) and OUT a folder for PNG frames (a path without a suffix).
The goal for ../shared/videos/walkers-6s.mp4 (60 frames) at 256 px: 20 minutes on the 2-core
machine.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIP = ROOT.parent / "shared" / "videos" / "walkers-6s.mp4"
PAINTING = ROOT / "examples" / "starry-night.jpg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", type=Path, default=CLIP)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--steps", type=int, help="steps of each frame after the first (default: nst video's)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/nst-video-speed.mp4"))
    args = parser.parse_args()
    from nst.run.video import stylize_video

    settings = {"size": args.size} | ({"steps": args.steps} if args.steps else {})
    started = time.perf_counter()
    result = stylize_video(args.clip, PAINTING, args.out, overwrite=True, **settings)
    wall = time.perf_counter() - started
    later_seconds, later_steps = result.seconds[1:], result.steps[1:]
    print(f"{args.clip.name}: {result.frames} frames at {args.size} px in {wall / 60:.1f} min"
          f" ({wall / result.frames:.1f} s per frame)")  # fmt: skip
    later = statistics.median(later_seconds)
    print(f"first frame: {result.steps[0]} steps, {result.seconds[0]:.1f} s; later frames: median"
          f" {statistics.median(later_steps):.0f} steps, {later:.2f} s, {1 / later:.2f} frames per second")  # fmt: skip


if __name__ == "__main__":
    main()
