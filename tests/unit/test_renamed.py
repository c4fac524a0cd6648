"""The video and batch API take the command's settings by the command's names, and the names they
had before still work for one release, each with a DeprecationWarning that names the new one. No
run: each call stops at a check before TensorFlow or Ray would start, or at a stand-in for Ray."""

import inspect
import json
import warnings

import pytest

from nst.apps.cli.settings import BATCH_SETTINGS, VIDEO_SETTINGS
from nst.errors import NstError
from nst.run import batch
from nst.run.cluster import Workers
from nst.run.renamed import renamed_keywords
from nst.run.video import stylize_video, temporal_error
from tests.helpers import CONTENT, STYLE, frames_folder, panning_frames

# The command's settings that are the terminal's alone, and a batch's that are Workers' fields
# (the API's `cluster`) or pick Options (a preset).
TERMINAL_ONLY = {"quiet"}
BATCH_ELSEWHERE = {"preset", "address", "workers", "cpus_per_worker", "gpus_per_worker"}


def keywords(function) -> set[str]:
    return set(inspect.signature(function).parameters)


def test_the_api_takes_the_commands_settings_by_their_names():
    assert {setting.name for setting in VIDEO_SETTINGS} - TERMINAL_ONLY <= keywords(stylize_video)
    batch_settings = {setting.name for setting in BATCH_SETTINGS} - TERMINAL_ONLY - BATCH_ELSEWHERE
    assert batch_settings <= keywords(batch.stylize_many)
    assert {"style", "cluster"} <= keywords(batch.stylize_many)  # as nst.stylize names them
    old = {"flow_method", "max_frames", "paintings", "outdir", "workers"}
    assert not old & (keywords(stylize_video) | keywords(batch.stylize_many))


def test_an_old_name_warns_naming_the_new_one_from_the_callers_line_and_passes_its_value_on():
    @renamed_keywords(old_name="new_name")
    def function(new_name=None, other=None):
        return new_name, other

    warning = r"^function\(old_name=\.\.\.\) is deprecated .*use new_name="
    with pytest.warns(DeprecationWarning, match=warning) as caught:
        assert function(old_name=3, other=4) == (3, 4)
    assert caught[0].filename == __file__  # the caller's line is what a warning filter and the user see
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new name alone: no warning
        assert function(new_name=3) == (3, None)
    with pytest.raises(TypeError, match="got new_name= and its old name old_name="):
        function(new_name=1, old_name=2)


def test_stylize_videos_old_names_still_work(tmp_path):
    clip = frames_folder(tmp_path / "clip", count=3)
    output = tmp_path / "styled.mp4"
    with (
        pytest.warns(DeprecationWarning, match=r"stylize_video\(flow_method=\.\.\.\) .*use flow="),
        pytest.raises(NstError, match="^flow must be one of dis, farneback, got 'optical'$"),
    ):
        stylize_video(clip, STYLE, output, size=32, flow_method="optical")
    # max_frames takes the clip's first frames: the clip refused for its time counts 2 of its 3.
    with (
        pytest.warns(DeprecationWarning, match=r"stylize_video\(max_frames=\.\.\.\) .*use frames="),
        pytest.raises(NstError, match=r": 2 frames at .* more than --max-time"),
    ):
        stylize_video(clip, STYLE, output, size=32, max_frames=2, max_time=1e-6)
    frames = [frame / 255.0 for frame in panning_frames(3)]
    with pytest.warns(DeprecationWarning, match=r"temporal_error\(flow_method=\.\.\.\) .*use flow="):
        assert temporal_error(frames, panning_frames(3), flow_method="farneback") == temporal_error(
            frames, panning_frames(3), flow="farneback"
        )


def test_stylize_manys_old_names_still_work(tmp_path, monkeypatch):
    """``paintings`` and ``outdir`` name the items and where they go; ``workers`` is where they run."""
    asked = []
    monkeypatch.setattr(batch, "_run_on_ray", lambda items, options, weights, workers, *_: asked.append(workers))
    workers = Workers(count=2)
    with pytest.warns(DeprecationWarning) as caught:
        summary = batch.stylize_many([CONTENT], paintings=[STYLE], outdir=tmp_path / "out", workers=workers)
    assert [str(warning.message) for warning in caught] == [
        f"stylize_many({old}=...) is deprecated and goes in the next release: use {new}=..."
        for old, new in (("paintings", "style"), ("outdir", "output"), ("workers", "cluster"))
    ]
    assert asked == [workers]
    assert [(item.painting, item.output) for item in summary.items] == [
        (str(STYLE), str(tmp_path / "out" / "cat-starry-night.png"))
    ]
    assert json.loads((tmp_path / "out" / batch.SUMMARY_NAME).read_text())["items"][0]["painting"] == str(STYLE)


def test_a_batch_blends_the_paintings_when_the_settings_give_style_blend_as_the_command_does(tmp_path, monkeypatch):
    asked = []
    monkeypatch.setattr(batch, "_run_on_ray", lambda items, *_: asked.append([item.paintings for item in items]))
    batch.stylize_many([CONTENT], [STYLE, CONTENT], tmp_path, style_blend=(1.0, 2.0))
    batch.stylize_many([CONTENT], [STYLE, CONTENT], tmp_path)
    batch.stylize_many([CONTENT], [STYLE, CONTENT], tmp_path, blend=True)  # equal weights
    assert asked == [[(STYLE, CONTENT)], [(STYLE,), (CONTENT,)], [(STYLE, CONTENT)]]
