"""nst video on a panning clip made here (a photo panning 3 px a frame, 64 px): temporal
consistency, frame count, frame rate and audio kept, resuming at the first missing frame, a step
compiled once per size, and bad clips refused in one line (the flow itself: tests/unit/test_video.py)."""

import subprocess
import sys

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

from nst import Interrupted, NstError
from nst.core import backend
from nst.media import clips
from nst.run.video import stylize_video, temporal_error
from tests.helpers import CLIP_FRAMES as FRAMES
from tests.helpers import CLIP_WIDTH as SIZE
from tests.helpers import STYLE, frames_folder, panning_frames, started, within

FPS = 8
# Tiny and quick; without XLA, whose compiling would cost more than these few steps.
SETTINGS = {"size": SIZE, "first_steps": 20, "steps": 4, "jit_compile": False}


@pytest.fixture(scope="module")
def clip_with_audio(tmp_path_factory):
    """The panning frames as an H.264 MP4 at 8 fps with a sine tone as its audio track, as long as
    the frames: an endless tone cut by -shortest ran up to 2 frames longer on a busy machine, and
    the clip's length (what its frames are counted from before decoding) with it."""
    folder = tmp_path_factory.mktemp("clip")
    for index, frame in enumerate(panning_frames()):
        Image.fromarray(frame).save(folder / f"in-{index + 1}.png")
    clip = folder / "pan.mp4"
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-framerate", str(FPS), "-i", folder / "in-%d.png",
        "-f", "lavfi", "-i", f"sine=frequency=440:duration={FRAMES / FPS}", "-c:v", "libx264", "-pix_fmt", "yuv420p",
        "-c:a", "aac", clip,
    ]  # fmt: skip
    subprocess.run([str(part) for part in command], check=True, stdin=subprocess.DEVNULL)
    return clip


@pytest.fixture(scope="module")
def consistent(clip_with_audio, weights, tmp_path_factory):
    """The clip stylized with warm starts and the temporal loss, as an MP4."""
    output = tmp_path_factory.mktemp("consistent") / "out.mp4"
    return stylize_video(clip_with_audio, STYLE, output, weights=weights, **SETTINGS)


@pytest.fixture(scope="module")
def independent(clip_with_audio, weights, tmp_path_factory):
    """The clip stylized frame by frame on their own, stopped (as by Ctrl-C) when the fourth
    frame begins, then run again with the same settings: both runs' results."""
    output = tmp_path_factory.mktemp("independent") / "out.mp4"
    settings = {**SETTINGS, "warm_start": False, "temporal_weight": 0.0, "weights": weights}

    def stop_at_fourth(progress) -> None:
        if progress.frame == 4:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as stopped:
        stylize_video(clip_with_audio, STYLE, output, callback=stop_at_fourth, **settings)
    kept = sorted(path.name for path in stopped.value.result.frames_folder.glob("frame-*.png"))
    assert not output.exists()
    return stopped.value.result, kept, stylize_video(clip_with_audio, STYLE, output, **settings)


def decoded(path) -> list[np.ndarray]:
    return clips.read_frames(clips.probe_clip(path, SIZE))


@pytest.mark.slow
def test_consistent_frames_flicker_less_than_independent_ones(consistent, independent):
    source = panning_frames()
    steady = temporal_error([frame / 255.0 for frame in decoded(consistent.output)], source)
    flickering = temporal_error([frame / 255.0 for frame in decoded(independent[2].output)], source)
    within("temporal error, consistent over independent frames", steady / flickering, below=1 / 3)
    assert consistent.steps == [20] + [4] * (FRAMES - 1)
    assert all("temporal" in losses for losses in consistent.losses[1:])


@pytest.mark.slow
def test_the_output_has_the_clips_frames_rate_and_audio(consistent, clip_with_audio):
    made = clips.probe_clip(consistent.output, SIZE)
    assert (made.fps, made.audio, made.size) == (FPS, True, (SIZE, 48))
    assert len(decoded(consistent.output)) == FRAMES == consistent.frames
    assert not consistent.frames_folder.exists()  # the finished frames go once the video is written


@pytest.mark.slow
def test_a_stopped_run_continues_at_the_first_missing_frame(independent):
    stopped, kept, resumed = independent
    assert stopped.computed == [0, 1, 2]
    assert kept == ["frame-00001.png", "frame-00002.png", "frame-00003.png"]
    assert resumed.computed == [3, 4, 5]
    assert len(decoded(resumed.output)) == FRAMES


@pytest.mark.e2e
def test_a_folder_of_frames_in_and_a_gif_out(weights, tmp_path):
    folder = frames_folder(tmp_path / "frames", 3)
    output = tmp_path / "out.gif"
    result = stylize_video(folder, STYLE, output, weights=weights, fps=5, **{**SETTINGS, "size": 32, "first_steps": 2,
                           "steps": 2})  # fmt: skip
    with Image.open(output) as animation:
        assert (animation.n_frames, animation.size, animation.info["duration"]) == (3, (32, 24), 200)
    assert result.computed == [0, 1, 2]


@pytest.mark.e2e
def test_a_clip_compiles_its_step_once_per_size(weights, tmp_path, monkeypatch):
    """The frames' targets are inputs of the step, which the frames share: 6 frames, the first
    in two sizes (a ladder of 32 and 64 px), trace two steps, where each frame tracing its own
    would make seven. Counted inside the traced function, which runs only when it is traced."""
    traces = []

    def counted(function, jit_compile=True):
        def traced(*args):
            traces.append(len(traces) + 1)
            return function(*args)

        return compile_step(traced, jit_compile)

    compile_step = backend.compile
    monkeypatch.setattr(backend, "compile", counted)
    clip = frames_folder(tmp_path / "frames", width=SIZE)
    settings = {**SETTINGS, "scales": 2, "scale_start": 32, "coarse_steps": 2, "first_steps": 3, "steps": 2}
    result = stylize_video(clip, STYLE, tmp_path / "styled", weights=weights, **settings)
    assert result.computed == list(range(FRAMES)) and result.steps == [5] + [2] * (FRAMES - 1)
    assert traces == [1, 2]


@pytest.mark.e2e
def test_a_clip_far_beyond_the_time_or_memory_asked_for_is_refused_with_the_numbers(clip_with_audio, tmp_path):
    with pytest.raises(NstError, match=r"6 frames at 64x48 .* need about \d+ s, more than --max-time 1 s"):
        stylize_video(clip_with_audio, STYLE, tmp_path / "out.mp4", size=SIZE, max_time=1)
    with pytest.raises(NstError, match=r"6 frames at 64x48 need about \d+ MB .* and 10 MB are available"):
        stylize_video(clip_with_audio, STYLE, tmp_path / "out.mp4", size=SIZE, max_memory=10)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("damage", ["truncated", "text"])
@pytest.mark.e2e
def test_a_broken_clip_gives_one_line_and_no_output(damage, clip_with_audio, tmp_path):
    clip = tmp_path / "broken.mp4"
    data = clip_with_audio.read_bytes()
    clip.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"not a video at all\n")
    output = tmp_path / "out.mp4"
    with started([sys.executable, "-m", "nst", "video", clip, STYLE, "-o", output], stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, text=True) as process:  # fmt: skip
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert stderr.startswith("nst: error: ") and stderr.count("\n") == 1, stderr
    assert str(clip) in stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["broken.mp4"]
