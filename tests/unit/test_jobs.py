"""The web app's job queue, with a fake stylize so that each test takes milliseconds: order,
one run at a time, positions, cancelling, abandoned pages, errors, clean-up. The queue reads the
time from a clock the tests move (a page's age, a step's length); they wait on its states, never
on the time."""

import io
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nst.apps.web.jobs import CANCELLED, DONE, FAILED, QUEUED, RUNNING, RunRequest
from nst.apps.web.queue import JobQueue
from nst.errors import NstError
from nst.media.saving import read_metadata
from nst.options import Options
from nst.run import plan
from tests.helpers import FakeClock, FakeStylize, wait_until


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    """The time, for the queue and for the fake run's plan alike."""
    clock = FakeClock()
    monkeypatch.setattr(plan, "clock", clock)
    return clock


@pytest.fixture
def make_queue(clock):
    queues = []

    def make(stylize, **settings) -> JobQueue:
        queue = JobQueue(stylize, **{"tidy_every_s": 0.01, "clock": clock, **settings})
        queue.start()
        queues.append(queue)
        return queue

    yield make
    for queue in queues:
        queue.close()


def submit(queue, tmp_path, name, steps=5, session="session"):
    folder = tmp_path / name
    folder.mkdir()
    photo = folder / name  # where the server put the upload the user calls ``name``
    options = Options(steps=steps, scales=1)  # one size: the queue's mechanics, not the ladder's
    request = RunRequest(photo, [Path("painting.jpg")], options, f"{name}.png", {str(photo): name})
    return queue.submit(session, request, folder)


def test_runs_go_one_at_a_time_in_order_and_waiting_ones_know_their_place(make_queue, tmp_path):
    stylize = FakeStylize()
    stylize.gate.clear()
    queue = make_queue(stylize)
    jobs = [submit(queue, tmp_path, f"photo{i}.jpg") for i in range(3)]
    wait_until(lambda: jobs[0].state == RUNNING)
    assert [(queue.status(job)["state"], queue.status(job)["ahead"]) for job in jobs] == [
        (RUNNING, 0),
        (QUEUED, 1),
        (QUEUED, 2),
    ]
    stylize.gate.set()
    wait_until(lambda: all(job.state == DONE for job in jobs), watch=[(queue, job) for job in jobs])
    assert [name for name, _, _ in stylize.runs] == ["photo0.jpg", "photo1.jpg", "photo2.jpg"]
    for (_, _, ended), (_, started, _) in zip(stylize.runs, stylize.runs[1:], strict=False):
        assert ended <= started  # never two at once


def test_each_job_gets_its_own_result(make_queue, tmp_path):
    queue = make_queue(FakeStylize())
    first, second = submit(queue, tmp_path, "a.jpg"), submit(queue, tmp_path, "b.jpg")
    wait_until(lambda: first.state == second.state == DONE, watch=[(queue, first), (queue, second)])
    for job, name in ((first, "a.jpg"), (second, "b.jpg")):
        assert job.result.parent == job.folder
        # The photo by the name it was given, not the server's path for it.
        assert read_metadata(job.result) == {"content": name, "style": ["painting.jpg"]}


def test_progress_previews_and_eta_reach_the_status(make_queue, tmp_path):
    stylize = FakeStylize()
    stylize.step_tokens = threading.Semaphore(0)  # a step at a time, each seen before the next
    queue = make_queue(stylize, preview_every_s=0.0)
    job = submit(queue, tmp_path, "photo.jpg", steps=10)
    seen = []
    for step in range(1, 11):
        stylize.step_tokens.release()
        wait_until(lambda step=step: job.preview_version == step, watch=[(queue, job)])
        seen.append(job.preview)
    wait_until(lambda: job.state == DONE, watch=[(queue, job)])
    status = queue.status(job)
    assert (status["step"], status["steps"], status["losses"]) == (10, 10, {"total": 0.1})
    assert status["eta_s"] == 0.0 and status["result"]
    assert len(set(seen)) == 10  # the previews change as the picture forms
    assert all(preview.startswith(b"\x89PNG") for preview in seen)


def test_a_prints_tile_passes_reach_the_status_and_count_the_time_left_down(make_queue, tmp_path, clock):
    """A step at a print's size takes minutes in tiles: between steps the status names the tile pass
    at work, and the time left goes down as the time since the last step goes up."""
    stylize = FakeStylize(tiles=3, step_s=2.0, clock=clock)
    stylize.tile_passes = threading.Semaphore(3)  # the first step's 3 passes; the second waits after its first
    queue = make_queue(stylize)
    job = submit(queue, tmp_path, "print.jpg", steps=4)
    wait_until(lambda: queue.status(job)["tile"] == [1, 3], watch=[(queue, job)])
    first = queue.status(job)
    clock.advance(0.5)
    stylize.tile_passes.release()
    wait_until(lambda: queue.status(job)["tile"] == [2, 3], watch=[(queue, job)])
    second = queue.status(job)
    assert second["step"] == first["step"] == 1  # in the second step
    assert second["elapsed_s"] - first["elapsed_s"] == pytest.approx(0.5)
    assert first["eta_s"] > 0.5 and second["eta_s"] == pytest.approx(first["eta_s"] - 0.5)
    for _ in range(20):
        stylize.tile_passes.release()
    wait_until(lambda: job.state == DONE, watch=[(queue, job)])
    assert queue.status(job)["tile"] is None  # a finished step clears it


def test_a_prints_run_can_be_cancelled_between_its_tile_passes(make_queue, tmp_path):
    stylize = FakeStylize(tiles=3)
    stylize.tile_passes = threading.Semaphore(3)
    queue = make_queue(stylize)
    job = submit(queue, tmp_path, "print.jpg", steps=4)
    wait_until(lambda: job.tile == (1, 3) and job.step == 1, watch=[(queue, job)])
    queue.cancel(job)
    stylize.tile_passes.release()
    wait_until(lambda: job.state == CANCELLED, watch=[(queue, job)])
    assert job.step == 1  # it ended at its next tile pass, not at the end of the step or the run


def test_the_first_frame_is_the_first_preview_before_the_run_starts(make_queue, tmp_path):
    stylize = FakeStylize()
    stylize.gate.clear()  # the run's first step waits: TensorFlow loading, compiling
    sketch = np.full((6, 9, 3), 0.25, np.float32)
    queue = make_queue(stylize, first_frame=lambda request: sketch)
    job = submit(queue, tmp_path, "photo.jpg")
    wait_until(lambda: queue.status(job)["preview"] == 1)
    status = queue.status(job)
    assert (status["state"], status["step"]) == (RUNNING, 0)
    with Image.open(io.BytesIO(job.preview)) as image:
        assert image.size == (9, 6) and image.getpixel((0, 0)) == (64, 64, 64)
    stylize.gate.set()
    wait_until(lambda: job.state == DONE, watch=[(queue, job)])
    assert queue.status(job)["preview"] > 1  # the run's own previews follow


def test_a_run_goes_on_without_its_first_frame_if_that_fails(make_queue, tmp_path, caplog):
    def broken(request):
        raise RuntimeError("no network")

    stylize = FakeStylize()
    stylize.gate.clear()
    queue = make_queue(stylize, first_frame=broken)
    job = submit(queue, tmp_path, "photo.jpg")
    wait_until(lambda: job.state == RUNNING)
    stylize.gate.set()
    wait_until(lambda: job.state == DONE, watch=[(queue, job)])
    assert "no first frame" in caplog.text and "no network" in caplog.text  # in the server's log, not the page


def test_cancelling_a_run_frees_the_worker_at_the_end_of_its_step(make_queue, tmp_path):
    queue = make_queue(FakeStylize(step_s=0.05))
    endless, next_one = submit(queue, tmp_path, "long.jpg", steps=100_000), submit(queue, tmp_path, "next.jpg")
    wait_until(lambda: endless.step >= 2, watch=[(queue, endless), (queue, next_one)])
    asked = endless.step
    queue.cancel(endless)
    assert queue.status(endless)["cancelling"]
    wait_until(lambda: next_one.state == DONE, watch=[(queue, next_one)])
    assert endless.step <= asked + 1  # it ended with the step it was in, not 100,000 steps later
    assert (endless.state, endless.message, endless.result) == (CANCELLED, "cancelled", None)


def test_a_cancelled_waiting_job_never_runs(make_queue, tmp_path):
    stylize = FakeStylize()
    stylize.gate.clear()
    queue = make_queue(stylize)
    first, second = submit(queue, tmp_path, "first.jpg"), submit(queue, tmp_path, "second.jpg")
    queue.cancel(second)
    assert second.state == CANCELLED
    stylize.gate.set()
    wait_until(lambda: first.state == DONE, watch=[(queue, first)])
    assert [name for name, _, _ in stylize.runs] == ["first.jpg"]


def test_a_run_whose_page_is_gone_is_cancelled(make_queue, tmp_path, clock):
    stylize = FakeStylize()
    stylize.step_tokens = threading.Semaphore(1)
    queue = make_queue(stylize, abandon_after_s=0.3)
    job = submit(queue, tmp_path, "photo.jpg", steps=100_000)
    wait_until(lambda: job.step == 1)
    clock.advance(1.0)  # nobody asks about it
    stylize.step_tokens.release()
    wait_until(lambda: job.state == CANCELLED)
    assert job.message == "cancelled: its page was closed" and job.step == 1


def test_a_waiting_job_whose_page_is_gone_leaves_the_line(make_queue, tmp_path, clock):
    stylize = FakeStylize()
    stylize.gate.clear()
    queue = make_queue(stylize, abandon_after_s=0.3)
    watched = submit(queue, tmp_path, "watched.jpg", steps=3)
    forgotten = submit(queue, tmp_path, "forgotten.jpg")
    wait_until(lambda: watched.state == RUNNING)
    clock.advance(1.0)
    queue.status(watched)  # its page is still there; the other's is not
    wait_until(lambda: forgotten.state == CANCELLED)
    assert watched.state == RUNNING  # the janitor took it out of the line; the worker never saw it
    stylize.gate.set()
    wait_until(lambda: watched.state == DONE, watch=[(queue, watched)])


def test_errors_reach_the_page_as_one_line(make_queue, tmp_path):
    folder = tmp_path / "bad.jpg"
    queue = make_queue(FakeStylize(error=NstError(f"{folder}/painting.jpg: not an image Pillow can read")))
    job = submit(queue, tmp_path, "bad.jpg")
    wait_until(lambda: job.state == FAILED, watch=[(queue, job)])
    assert job.message == "painting.jpg: not an image Pillow can read"  # the private folder is not shown

    queue = make_queue(FakeStylize(error=RuntimeError("boom\n  and a second line")))
    job = submit(queue, tmp_path, "boom.jpg")
    wait_until(lambda: job.state == FAILED, watch=[(queue, job)])
    assert job.message == "unexpected error: RuntimeError: boom"


def test_jobs_are_private_to_their_session_and_deleted_after_a_while(make_queue, tmp_path, clock):
    queue = make_queue(FakeStylize(), keep_s=0.3)
    job = submit(queue, tmp_path, "photo.jpg", session="mine")
    assert queue.get(job.id, "mine") is job
    assert queue.get(job.id, "someone else") is None
    wait_until(lambda: job.state == DONE, watch=[(queue, job)])
    assert job.folder.is_dir() and queue.get(job.id, "mine") is job
    clock.advance(1.0)
    wait_until(lambda: queue.get(job.id, "mine") is None)
    assert not job.folder.exists()


def test_a_full_line_is_refused(make_queue, tmp_path):
    stylize = FakeStylize()
    stylize.gate.clear()
    queue = make_queue(stylize, max_waiting=1)
    running = submit(queue, tmp_path, "one.jpg")
    wait_until(lambda: running.state == RUNNING)
    submit(queue, tmp_path, "two.jpg")
    with pytest.raises(NstError, match="1 runs are already waiting"):
        submit(queue, tmp_path, "three.jpg")
    stylize.gate.set()
