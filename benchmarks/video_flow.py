"""The optical flows considered for nst video, on the walkers clip: seconds per frame pair
(both directions, as nst video computes them) and how well each warps a frame onto the next.

    .venv/bin/python benchmarks/video_flow.py [CLIP] [--size 256] [--frames 30]

Warping error: mean |frame - previous frame warped by the flow| (of 255) over the pixels the
reliability mask keeps, and the share of pixels it keeps. Medians over the frame pairs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from nst.media import clips, flow

CLIP = Path(__file__).resolve().parent.parent.parent / "shared" / "videos" / "walkers-6s.mp4"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", nargs="?", default=CLIP)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args()
    frames = clips.read_frames(clips.probe_clip(args.clip, args.size, args.frames))
    print(f"{len(frames)} frames of {args.clip} at {frames[0].shape[1]}x{frames[0].shape[0]}")
    print("| flow | s per pair (both ways) | warping error, kept pixels (of 255) | pixels kept | still error |")
    print("|---|---|---|---|---|")
    for method in flow.FLOW_METHODS:
        seconds, errors, kept, unmoved = [], [], [], []
        for previous, frame in zip(frames, frames[1:], strict=False):
            began = time.perf_counter()
            backward, reliable = flow.motion(previous, frame, method)
            seconds.append(time.perf_counter() - began)
            error = np.abs(flow.warp(previous.astype(np.float32), backward) - frame).mean(axis=-1)
            errors.append(error[reliable > 0].mean())
            kept.append(reliable.mean())
            unmoved.append(np.abs(previous.astype(np.float32) - frame).mean(axis=-1)[reliable > 0].mean())
        print(
            f"| {method} | {np.median(seconds):.4f} | {np.median(errors):.2f} | {np.median(kept):.1%} |"
            f" {np.median(unmoved):.2f} |"
        )
    print("still error: the same pixels without warping (what a zero flow would leave)")


if __name__ == "__main__":
    main()
