"""nst batch on a local Ray with 2 workers: each output equals the single command's, bad inputs
fail alone, a second run skips what is made, a worker killed mid-item has its item retried."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading

import numpy as np
import psutil
import pytest
import ray
from PIL import Image

from nst import Options, stylize
from nst.media.saving import read_params
from nst.run import batch
from nst.run.cluster import no_idle_workers
from tests.helpers import CONTENT, EXAMPLES, RAY_NAMESPACE, STYLE, started, within

pytestmark = [pytest.mark.e2e, pytest.mark.ray]

# Tiny, yet real photos and paintings; without XLA, whose compiling would take most of the time.
SETTINGS = {"size": 32, "steps": 8, "jit_compile": False}


@pytest.fixture(scope="module")
def local_ray():
    no_idle_workers()  # as nst starts Ray
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR", namespace=RAY_NAMESPACE)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def pictures(tmp_path_factory):
    """Four 48x32 photos (crops of the bundled two) and two small paintings."""
    folder = tmp_path_factory.mktemp("inputs")
    photos = []
    for source in (CONTENT, EXAMPLES / "coffee.jpg"):
        with Image.open(source) as image:
            for corner in ((0, 0), (image.width // 3, image.height // 3)):
                path = folder / f"{source.stem}-{corner[0]}.png"
                image.crop((*corner, corner[0] + 240, corner[1] + 160)).resize((48, 32)).save(path)
                photos.append(path)
    paintings = []
    for source in (STYLE, EXAMPLES / "the-scream.jpg"):
        with Image.open(source) as image:
            path = folder / f"{source.stem}.png"
            image.resize((48, 40)).save(path)
            paintings.append(path)
    return photos, paintings


@pytest.fixture(scope="module")
def first_batch(local_ray, pictures, weights, tmp_path_factory):
    """The eight pictures, made once for the tests that look at them."""
    photos, paintings = pictures
    outdir = tmp_path_factory.mktemp("batch")
    summary = batch.stylize_many(photos, paintings, outdir, Options(weights=weights, **SETTINGS),
                                 cluster=batch.Workers(count=2))  # fmt: skip
    return outdir, summary


def pixels(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def test_each_output_equals_the_single_commands_and_the_summary_lists_them(first_batch, pictures, weights):
    outdir, summary = first_batch
    photos, paintings = pictures
    assert summary.workers == 2
    assert [outcome.status for outcome in summary.items] == ["done"] * 8
    listed = json.loads((outdir / "summary.json").read_text())
    assert listed["counts"] == {"done": 8, "skipped": 0, "failed": 0, "interrupted": 0}
    rows = {row["output"]: row for row in listed["items"]}
    for photo in photos:
        for painting in paintings:
            output = outdir / f"{photo.stem}-{painting.stem}.png"
            row = rows[str(output)]
            assert (row["input"], row["painting"], row["status"], row["error"]) == (str(photo), str(painting), "done",
                                                                                    None)  # fmt: skip
            single = stylize(photo, [painting], Options(weights=weights, **SETTINGS))
            difference = np.abs(pixels(output) - np.asarray(single.image, dtype=np.int16)).max()
            within("a batch item against the single command's, largest 8-bit difference", difference, at_most=1)
            params = read_params(output)
            assert params == {**single.report["params"], "versions": params["versions"]}
            report = json.loads(output.with_suffix(".json").read_text())
            assert report["final"] == row["losses"] and row["seconds"] > 0


def test_a_second_run_skips_everything_and_makes_again_only_a_deleted_output(first_batch, pictures, weights):
    outdir, _ = first_batch
    photos, paintings = pictures
    options = Options(weights=weights, **SETTINGS)
    written = {path: path.stat().st_mtime_ns for path in outdir.glob("*.png")}
    again = batch.stylize_many(photos, paintings, outdir, options, cluster=batch.Workers(count=2))
    assert [outcome.status for outcome in again.items] == ["skipped"] * 8
    assert {path: path.stat().st_mtime_ns for path in outdir.glob("*.png")} == written

    deleted = outdir / f"{photos[1].stem}-{paintings[0].stem}.png"
    before = pixels(deleted)
    deleted.unlink()
    # 3 workers on 2 CPUs: the one without room never starts, and no item waits for it.
    third = batch.stylize_many(photos, paintings, outdir, options, cluster=batch.Workers(count=3))
    made = [outcome.output for outcome in third.items if outcome.status == "done"]
    assert made == [str(deleted)]
    assert third.count("skipped") == 7
    within("a deleted item made again, largest 8-bit difference", np.abs(pixels(deleted) - before).max(), at_most=1)
    assert {path: path.stat().st_mtime_ns for path in outdir.glob("*.png") if path != deleted} == {
        path: mtime for path, mtime in written.items() if path != deleted
    }


def test_an_unreadable_photo_fails_its_item_alone_with_the_single_commands_message(tmp_path, pictures, weights):
    photos, paintings = pictures
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a picture\n")
    env = {**os.environ, "NST_WEIGHTS": weights}
    env.pop("RAY_ADDRESS", None)  # the command starts its own local Ray, as on a laptop
    command = [sys.executable, "-m", "nst"]
    with started([*command, notes, paintings[0], "-o", tmp_path / "single.png"], stderr=subprocess.PIPE, text=True,
                 env=env) as single:  # fmt: skip
        single_error = single.communicate(timeout=120)[1]
    assert single.returncode == 2 and single_error.startswith("nst: error: ")
    message = single_error.removeprefix("nst: error: ").strip()

    outdir = tmp_path / "out"
    arguments = [
        photos[0],
        notes,
        "--style",
        paintings[0],
        "-o",
        outdir,
        "--workers",
        1,
        "--size",
        32,
        "--steps",
        3,
        "--no-jit-compile",
    ]
    with started([*command, "batch", *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                 env=env) as process:  # fmt: skip
        out, err = process.communicate(timeout=300)
    assert process.returncode == 1, err
    assert f"failed  {notes} with {paintings[0]}: {message}\n" in err
    assert "Traceback" not in err and "WARNING" not in err
    assert out.startswith("1 done, 0 skipped, 1 failed in ")
    listed = json.loads((outdir / "summary.json").read_text())
    assert [(row["input"], row["status"], row["error"]) for row in listed["items"]] == [
        (str(photos[0]), "done", None),
        (str(notes), "failed", message),
    ]
    assert sorted(path.name for path in outdir.iterdir()) == [
        f"{photos[0].stem}-{paintings[0].stem}.json", f"{photos[0].stem}-{paintings[0].stem}.png", "summary.json",
    ]  # fmt: skip


def test_a_worker_plans_in_its_share_of_the_memory_with_weights_in_keras_own_format(local_ray, weights, tmp_path):
    """Workers side by side each plan in their share (here 1700 MB): a 160 px picture that fits
    whole in the machine's memory runs in tiles there, as the single command does in 1700 MB; the
    share is the worker's, not a setting recorded in the picture. Its weights file reaches it under
    its name: Keras reads NAME.weights.h5 (its own format) and NAME.h5 (the older one) by their names."""
    import keras

    path = tmp_path / "vgg19.weights.h5"
    keras.applications.VGG19(include_top=False, weights=weights).save_weights(path)
    # One size (the ladder's smaller one would run whole on both sides), one step: the plan is the point.
    options = Options(weights=str(path), size=160, scales=1, steps=1, jit_compile=False)
    summary = batch.stylize_many([CONTENT], [STYLE], tmp_path / "out", options,
                                 cluster=batch.Workers(count=1, memory_mb=1700))  # fmt: skip
    assert [(outcome.status, outcome.error) for outcome in summary.items] == [("done", None)]
    report = json.loads(next((tmp_path / "out").glob("cat-starry-night.json")).read_text())
    assert report["sizes"][-1]["tile"] == 128 and report["params"]["max_memory"] is None
    single = stylize(CONTENT, STYLE, options, weights=weights, max_memory=1700)
    assert [size["tile"] for size in report["sizes"]] == [size["tile"] for size in single.report["sizes"]]


def test_without_ray_batch_says_in_one_line_how_to_get_it(tmp_path):
    hide_ray = "import sys; sys.modules['ray'] = None; from nst.apps.cli import main; sys.exit(main())"
    arguments = ["batch", CONTENT, "--style", STYLE, "-o", tmp_path / "out"]
    with started([sys.executable, "-c", hide_ray, *arguments], stderr=subprocess.PIPE, text=True) as process:
        error = process.communicate(timeout=120)[1]
    assert process.returncode == 2
    assert error == "nst: error: batch runs need Ray: pip install 'nst[cluster]'\n"


def _worker_title(process: psutil.Process) -> str:
    with contextlib.suppress(psutil.Error):
        return " ".join(process.cmdline())
    return ""


def _kill_first_busy_worker(killed: list[int], stop: threading.Event, others: set[int]) -> None:
    """SIGKILLs the first Ray worker seen in the middle of an item (its process title names the
    method), once TensorFlow is working on it: its CPU time has grown by half a second. ``others``:
    workers of earlier batches, which may still be ending, and are left alone."""
    while not stop.is_set():
        for process in psutil.process_iter():
            if process.pid not in others and _worker_title(process).startswith("ray::BatchWorker.stylize"):
                began = sum(process.cpu_times()[:2])
                while sum(process.cpu_times()[:2]) < began + 0.5 and not stop.is_set():
                    stop.wait(0.02)
                assert _worker_title(process).startswith("ray::BatchWorker.stylize")  # still on it
                os.kill(process.pid, signal.SIGKILL)
                killed.append(process.pid)
                return
        stop.wait(0.05)


def test_a_worker_killed_in_the_middle_of_an_item_has_the_item_retried(local_ray, pictures, weights, tmp_path):
    photos, paintings = pictures
    killed: list[int] = []
    stop = threading.Event()
    others = {process.pid for process in psutil.process_iter() if _worker_title(process).startswith("ray::BatchWorker")}
    killer = threading.Thread(target=_kill_first_busy_worker, args=(killed, stop, others))
    killer.start()
    try:
        options = Options(weights=weights, **{**SETTINGS, "steps": 100})  # long enough to be killed in, not at its end
        summary = batch.stylize_many(photos[:2], paintings[:1], tmp_path, options, cluster=batch.Workers(count=1))
    finally:
        stop.set()
        killer.join()
    assert len(killed) == 1
    assert [outcome.status for outcome in summary.items] == ["done", "done"]
    assert sorted(outcome.attempts for outcome in summary.items) == [1, 2]
    for outcome in summary.items:
        assert read_params(outcome.output)["content"] == outcome.input


def test_ctrl_c_stops_the_batch_and_keeps_the_finished_pictures(tmp_path, pictures, weights):
    photos, paintings = pictures
    env = {**os.environ, "NST_WEIGHTS": weights}
    env.pop("RAY_ADDRESS", None)
    outdir = tmp_path / "out"
    arguments = [*photos[:2], "--style", paintings[0], "-o", outdir, "--workers", 1, "--size", 32, "--steps", 100,
                 "--no-jit-compile"]  # fmt: skip
    with started([sys.executable, "-m", "nst", "batch", *arguments], stderr=subprocess.PIPE, text=True,
                 env=env) as process:  # fmt: skip
        for line in process.stderr:
            if line.startswith("done"):
                break
        process.send_signal(signal.SIGINT)  # during the second item
        error = process.communicate(timeout=60)[1]
    assert process.returncode == 130
    assert error == f"nst: interrupted; 1 finished picture in {outdir}, the summary in {outdir / 'summary.json'}\n"
    listed = json.loads((outdir / "summary.json").read_text())
    assert [row["status"] for row in listed["items"]] == ["done", "interrupted"]
    assert sorted(path.name for path in outdir.iterdir()) == [
        f"{photos[0].stem}-{paintings[0].stem}.json", f"{photos[0].stem}-{paintings[0].stem}.png", "summary.json",
    ]  # fmt: skip
