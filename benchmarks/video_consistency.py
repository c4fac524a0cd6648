"""Flicker, quality and speed of nst video's ways of stylizing a clip, side by side in one run:
every frame on its own (independent), warm start only, and warm start with the temporal loss
(at one or more weights).

    .venv/bin/python benchmarks/video_consistency.py [CLIP] --size 128 --frames 10 [--gif docs/video-compare.gif]

Temporal error: measures.temporal_error with the flows and masks of the original frames (the
same for every way). Style: the mean style loss of the frames after the first, over the
independent run's (a single-picture run of each frame with the first frame's steps). grid and
noise: the worst frame's. Seconds per frame and steps per frame after the first.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from nst.media import clips
from nst.media.images import load_image
from nst.run.video import FIRST_STEPS, LATER_STEPS, TEMPORAL_WEIGHTS, stylize_video, temporal_error

ROOT = Path(__file__).resolve().parent.parent
CLIP = ROOT.parent / "shared" / "videos" / "walkers-6s.mp4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", default=CLIP)
    parser.add_argument("--style", default=ROOT / "examples" / "starry-night.jpg")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--first-steps", type=int, default=FIRST_STEPS)
    parser.add_argument("--steps", type=int, default=LATER_STEPS)
    default_weight = f"{TEMPORAL_WEIGHTS['photo']:g}"
    parser.add_argument("--weights", default=default_weight, help="temporal weights to try, comma-separated")
    parser.add_argument("--gif", type=Path, help="also write the three side by side as this GIF")
    args = parser.parse_args()
    originals = clips.read_frames(clips.probe_clip(args.clip, args.size, args.frames))
    ways = {"independent": {"warm_start": False, "temporal_weight": 0.0}, "warm start": {"temporal_weight": 0.0}}
    for weight in (float(text) for text in args.weights.split(",")):
        ways[f"temporal {weight:g}"] = {"temporal_weight": weight}
    rows, stylized = [], {}
    with tempfile.TemporaryDirectory() as folder:
        for name, settings in ways.items():
            output = Path(folder) / name.replace(" ", "-")
            result = stylize_video(
                args.clip, args.style, output, size=args.size, steps=args.steps, first_steps=args.first_steps,
                frames=args.frames, **settings,
            )  # fmt: skip
            frames = [load_image(output / f"frame-{index + 1:05d}.png") for index in range(result.frames)]
            stylized[name] = frames
            style = np.mean([losses["style"] for losses in result.losses[1:]])
            rows.append((name, temporal_error(frames, originals), style, result))
            print(f"done: {name} in {result.wall_s:.0f} s", flush=True)
    independent_error, independent_style = rows[0][1], rows[0][2]
    print(f"\n{len(originals)} frames of {Path(args.clip).name} at {originals[0].shape[1]}x{originals[0].shape[0]},"
          f" {args.first_steps} steps for the first frame, {args.steps} for each later one (warm starts)")  # fmt: skip
    print("| way | temporal error | vs independent | style (later frames) vs independent | worst grid | worst noise"
          " | s per frame after the first | steps per frame after the first |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for name, error, style, result in rows:
        print(
            f"| {name} | {error:.5f} | {independent_error / error:.1f}x lower | {style / independent_style:.2f} |"
            f" {max(losses['grid'] for losses in result.losses):.3f} |"
            f" {max(losses['noise'] for losses in result.losses):.3f} | {np.median(result.seconds[1:]):.1f} |"
            f" {np.median(result.steps[1:]):.0f} |"
        )
    if args.gif:
        names = ["independent", "warm start", next(name for name in stylized if name.startswith("temporal"))]
        side_by_side = [
            Image.fromarray(
                np.concatenate([np.rint(stylized[name][index] * 255).astype(np.uint8) for name in names], 1)
            )
            for index in range(len(originals))
        ]
        side_by_side[0].save(args.gif, save_all=True, append_images=side_by_side[1:], duration=100, loop=0)
        print(f"wrote {args.gif}: {', '.join(names)}, left to right")


if __name__ == "__main__":
    main()
