"""nst video's parts without the network: warping along known motion, OpenCV's flow and its
occlusion mask, and the temporal error (the clips stylized: tests/test_video.py)."""

import numpy as np

from nst.media import flow, measures
from nst.run.video import temporal_error
from tests.helpers import PAN, panning_frames, rng, within


def test_warping_along_a_known_translation_gives_the_frame_back():
    previous, frame = panning_frames(2)
    shift = np.zeros((*frame.shape[:2], 2), np.float32)
    shift[..., 0] = PAN  # frame[y, x] shows previous[y, x + 3]
    warped = flow.warp(previous.astype(np.float32), shift)
    within("warped along a known translation: largest difference", np.abs(warped[:, :-PAN] - frame[:, :-PAN]).max(),
           below=1e-3)  # fmt: skip
    # The flow OpenCV estimates is that translation, and warps as well where it is reliable.
    backward, reliable = flow.motion(previous, frame)
    median = np.median(backward[reliable > 0], axis=0)
    within("OpenCV's flow: its median off the pan, px", np.abs(median - [PAN, 0]).max(), at_most=0.1)
    error = np.abs(flow.warp(previous.astype(np.float32), backward) - frame).mean(axis=-1)
    within("warped along OpenCV's flow: mean error where reliable, of 255", error[reliable > 0].mean(), below=2.0)
    within("OpenCV's flow: the share found reliable", reliable.mean(), above=0.8)


def test_the_occlusion_mask_marks_the_uncovered_border():
    previous, frame = panning_frames(2)
    _, reliable = flow.motion(previous, frame)
    assert reliable[:, -PAN:].max() == 0.0  # the camera moved right: these columns were not in view
    within("the occlusion mask: the share reliable away from the border", reliable[:, : -2 * PAN].mean(), above=0.9)
    # The same, the other way: a frame seen earlier in the pan uncovers its left border.
    _, backwards = flow.motion(frame, previous)
    assert backwards[:, :PAN].max() == 0.0


def test_temporal_error_is_zero_for_frames_that_move_with_the_motion_and_grows_with_flicker():
    frames = [frame.astype(np.float32) / 255 for frame in panning_frames(3)]
    within("temporal error of frames moving with the motion", temporal_error(frames, panning_frames(3)), below=1e-4)
    noisy = [frame + rng(index).normal(0, 0.1, frame.shape) for index, frame in enumerate(frames)]
    within("temporal error of flickering frames", temporal_error(noisy, panning_frames(3)), above=0.015)
    mask = np.zeros((2, 2))
    assert measures.temporal_error([np.ones((2, 2, 3))], [np.zeros((2, 2, 3))], [mask]) == 0.0  # nothing kept
