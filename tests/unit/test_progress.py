"""The one progress model: the time left is the run's own, computed from its measured step costs
over the sizes still to come, and the web page and the terminal show that same figure; a clip's
and a batch's time left follow from their frames' and items' measured times."""

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from tqdm import tqdm

from nst.apps import cli
from nst.apps.web.jobs import Job, RunRequest
from nst.options import Options
from nst.run import ladder, plan
from nst.run.progress import FrameClock, ItemClock, Progress, duration
from tests.helpers import FakeClock, FakeStylize


def test_the_web_page_and_the_terminal_show_the_same_time_left(tmp_path):
    seen: list[Progress] = []
    losses = {"total": 3.0, "content": 1.0, "style": 2.0}
    run = FakeStylize(step_s=0.001, losses=lambda step: losses)
    run(Path("photo.jpg"), [], Options(size=64, steps=6), callback=seen.append)
    job = Job("id", "session", RunRequest(Path("photo.jpg"), [], Options(), "out.png"), tmp_path, last_seen=0.0)
    with tqdm(total=6, file=io.StringIO()) as bar:
        terminal = cli.ProgressBar(bar, in_seconds=False, sizes=[64], device=lambda: "CPU")
        for progress in seen:
            job.record(progress, now=0.0)
            terminal(progress)
            assert progress.remaining_s is not None
            assert job.status(ahead=0)["eta_s"] == round(progress.remaining_s, 1)
            assert bar.postfix.endswith(f"{duration(progress.remaining_s)} left")
    assert [progress.step for progress in seen] == [1, 2, 3, 4, 5, 6]


def test_the_time_left_counts_the_steps_of_the_sizes_to_come_at_their_measured_cost(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(plan, "clock", clock)
    options = Options(size=96, scales=2, scale_start=48, coarse_steps=10, steps=4)
    work = [48.0 * 32, 96.0 * 64]  # the pixels of a step at each size
    run = plan.Plan(options, ladder.scale_sizes(options), clock(), work)
    run.begin_scale()
    clock.now += 5.0  # the targets and compiling
    run.start_scale(0)
    for _ in range(3):
        clock.now += 1e-3 * work[0]  # a step costs 1 ms a pixel
        run.record_step()
    progress = run.progress({"total": 1.0}, lambda: None)
    assert (progress.step, progress.scale, progress.scales, progress.size) == (3, 1, 2, 96 // 2)
    later_size = 4 * 1e-3 * work[1] + run.scale_overhead
    assert progress.remaining_s == pytest.approx(7 * 1e-3 * work[0] + later_size + 0.4 * 1e-3 * work[1])
    # The steps left at the rate seen so far, as the web page once guessed, would say 11 steps of this size's cost.
    assert progress.remaining_s > 2 * 11 * 1e-3 * work[0]


def test_a_size_resumed_after_its_first_step_measures_its_steps_from_the_next_one(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(plan, "clock", clock)
    work = [64.0 * 43]
    run = plan.Plan(Options(size=64, steps=4), [64], clock(), work)
    run.begin_scale()
    run.start_scale(0, done=1)  # a checkpoint's one step
    for _ in range(3):
        clock.now += 1e-3 * work[0]
        run.record_step()
    assert run.steps_per_scale == [4] and run.seconds_per_pixel == pytest.approx(1e-3)


def test_under_a_budget_the_time_left_is_the_budgets_rest(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(plan, "clock", clock)
    run = plan.Plan(Options(size=64, time_budget=30.0), [64], clock(), [64.0 * 43])
    run.begin_scale()
    run.start_scale(0)
    clock.now += 12.5
    run.record_step()
    progress = run.progress({"total": 1.0}, lambda: None)
    assert (progress.remaining_s, progress.time_budget_s, progress.elapsed_s) == (17.5, 30.0, 12.5)


def test_a_clips_time_left_is_its_frames_own_and_the_later_frames_at_their_pace():
    clock = FakeClock()
    frames = FrameClock(5, clock)
    step = Progress(3, 10, 0.0, {"total": 1.0}, 1, 1, None, lambda: None, remaining_s=4.0)
    assert frames.progress(step).remaining_s is None  # no frame timed yet
    for index, seconds in enumerate((30.0, 10.0, 12.0)):  # the first, from its photo, takes longer
        frames.frame_begins(index)
        clock.now += seconds
        assert frames.frame_ends() == seconds
    frames.frame_begins(3)
    clock.now += 2.0
    progress = frames.progress(step)
    assert (progress.frame, progress.frames, progress.elapsed_s) == (4, 5, 54.0)
    assert progress.remaining_s == 4.0 + 11.0  # this frame's plan, then one frame at the later frames' pace


def test_a_batchs_time_left_is_the_items_to_make_in_rounds_of_the_workers():
    clock = FakeClock()
    items = ItemClock(clock)
    assert items.progress(0, 9, None, workers=2).remaining_s is None
    assert items.progress(1, 9, SimpleNamespace(seconds=None), 2).remaining_s is None  # skipped: not timed
    clock.now += 8.0
    progress = items.progress(2, 9, SimpleNamespace(seconds=8.0), 2)
    assert (progress.remaining_s, progress.elapsed_s, progress.done, progress.total) == (4 * 8.0, 8.0, 2, 9)
    assert items.progress(3, 9, SimpleNamespace(seconds=4.0), 2).remaining_s == 3 * 6.0


@pytest.mark.parametrize(
    ("seconds", "text"), [(0.4, "0 s"), (59.4, "59 s"), (65, "1 min 05 s"), (3599, "59 min 59 s"), (7830, "2 h 10 min")]
)
def test_one_duration_format(seconds, text):
    assert duration(seconds) == text
