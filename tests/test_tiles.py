"""Print sizes in tiles: the tiles' sums are the whole image's, so are the losses and (with a
wide enough halo) the gradient; memory decides the tile; a print is made coarse to fine."""

import dataclasses
import gc
import json
import os
import platform
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from nst import Options, score, stylize
from nst.core import adam, backend, lbfgs
from nst.core.objective import Objective
from nst.core.optimizers import CompiledSteps
from nst.core.tile_passes import kept_mb
from nst.core.tiles import TiledObjective
from nst.errors import NstError
from nst.media import measures
from nst.media.images import load_image
from nst.run import memory, runner
from nst.run.memory import estimate_peak_mb, estimate_tiled_mb, plan_size
from tests.helpers import (
    CONTENT,
    EXAMPLES,
    STYLE,
    losses_and_gradient,
    moved_on,
    nst_here,
    relative_difference,
    relative_error,
    rng,
    within,
)

SECOND_STYLE = EXAMPLES / "the-scream.jpg"


@pytest.fixture(scope="module")
def scene():
    """A 96x64 photo, a changed version of it to score, two paintings and a mask of its left half."""
    photo = load_image(CONTENT, 96)
    image = np.clip(photo + rng(0).normal(0.0, 0.1, photo.shape), 0.0, 1.0).astype(np.float32)
    mask = np.zeros(photo.shape[:2], np.float32)
    mask[:, :40] = 1.0
    return photo, image, [load_image(STYLE, 96), load_image(SECOND_STYLE, 96)], mask


@pytest.mark.parametrize("case", ["two paintings blended, sum normalisation, balanced layers", "a mask per painting"])
@pytest.mark.e2e
def test_with_a_halo_over_the_whole_image_tiles_give_the_whole_imagelosses_and_gradient(scene, weights, case):
    photo, image, paintings, mask = scene
    settings = {"size": 96, "weights": weights, "tv_weight": 1.0, "jit_compile": False}
    if case == "a mask per painting":
        masks = [mask, 1.0 - mask]
    else:
        masks = None
        settings.update(style_blend=(0.3, 0.7), normalization="sum", balance_style_layers=True)
    styles = paintings
    options = Options(**settings)
    whole = losses_and_gradient(Objective(photo, styles, options, masks), image)
    tiled_objective = TiledObjective(photo, styles, options, masks, tile=32, halo=96)
    assert len(tiled_objective.tiling) == 6  # 3 x 2 tiles of 32 px
    tiled = losses_and_gradient(tiled_objective, image)
    for name, value in whole[0].items():
        difference = relative_difference(tiled[0][name], value)
        within(f"tiles, {case}: {name} loss against the whole image's, relative", difference, at_most=1e-5)
    difference = relative_error(tiled[1], whole[1])
    within(f"tiles, {case}: gradient against the whole image's, relative L2", difference, below=1e-5)


@pytest.mark.core
@pytest.mark.e2e
def test_tiles_whose_activations_are_kept_between_passes_give_the_same_losses_and_gradient(scene, weights):
    """A worker keeps a tile's forward activations for its backward pass where they fit (one forward
    pass saved a tile each step): the same numbers, the rest recomputed."""
    photo, image, paintings, _ = scene
    options = Options(size=96, weights=weights, tv_weight=1.0, jit_compile=False)
    objective = TiledObjective(photo, paintings[0], options, tile=32, halo=16)
    passes = objective.runner.passes  # one for every evaluation: its functions compiled once
    crop = objective.tiling.crop
    assert len(objective.tiling) == 6 and crop[0] * crop[1] < image.shape[0] * image.shape[1]

    def evaluated(room_for):  # the losses, the gradient and the passes run, keeping `room_for` crops' activations
        passes.keep_mb = room_for * kept_mb(crop[0] * crop[1])
        before = dict(passes.pass_counts)
        losses, gradient = losses_and_gradient(objective, image)
        return losses, gradient, {name: count - before[name] for name, count in passes.pass_counts.items()}

    *plain, counts = evaluated(0)
    assert counts == {"forward": 6, "backward": 6, "kept": 0}
    for room_for in (6, 2):
        losses, gradient, counts = evaluated(room_for)
        for name, value in plain[0].items():
            within(f"kept activations: {name} loss against recomputed, relative",
                   relative_difference(losses[name], value), at_most=1e-6)  # fmt: skip
        within("kept activations: gradient against recomputed, relative L2", relative_error(gradient, plain[1]),
               below=1e-6)  # fmt: skip
        # TensorFlow keeps none: its tape's gradient would run the forward pass again.
        keeps = 0 if backend.name() == "tensorflow" else room_for
        assert backend.keeps_activations() == (keeps > 0)
        assert counts == {"forward": 6, "backward": 6 - keeps, "kept": keeps}
        assert not passes.kept  # every kept tile taken back: nothing held past the step


@pytest.mark.e2e
def test_a_painting_seen_in_tiles_gives_the_whole_paintings_gram_matrices(scene, weights):
    photo, _, paintings, _ = scene
    options = Options(size=96, weights=weights, halo=96, jit_compile=False)
    whole = Objective(photo, paintings, options).style_targets
    in_tiles = Objective(photo, paintings, options, painting_tile=32).style_targets
    for layer, (gram, tiled_gram) in enumerate(zip(whole, in_tiles, strict=True)):
        difference = relative_error(backend.to_numpy(tiled_gram), backend.to_numpy(gram))
        within(f"a painting in 32 px tiles: layer {layer + 1}'s Gram matrix against the whole's, relative L2",
               difference, below=1e-5)  # fmt: skip


@pytest.mark.e2e
def test_seen_1_px_on_tiles_give_the_whole_objective_of_the_picture_and_photo_moved_and_its_gradient_back(
    scene, weights
):
    """What Adam's every other tiled step computes (no pooling grid left in the picture). Total
    variation, the picture's own term, is taken where the picture is: left out here."""
    photo, image, paintings, _ = scene
    options = Options(size=96, weights=weights, normalization="mean", tv_weight=0.0, jit_compile=False)
    moved = losses_and_gradient(Objective(moved_on(photo), paintings[0], options), moved_on(image))
    tiled = losses_and_gradient(TiledObjective(photo, paintings[0], options, tile=32, halo=96), image, shift=1)
    for name in ("content", "style", "total"):
        difference = relative_difference(tiled[0][name], moved[0][name])
        within(f"tiles seen 1 px on: {name} loss against the moved picture's, relative", difference, at_most=1e-5)
    back = np.zeros_like(image)  # the moved picture's gradient, where its pixels came from
    rows, columns = (np.minimum(np.arange(1, side + 1), side - 1) for side in image.shape[:2])
    np.add.at(back, np.ix_(rows, columns), moved[1])
    within("tiles seen 1 px on: gradient against the moved picture's, relative L2", relative_error(tiled[1], back),
           below=1e-5)  # fmt: skip


@pytest.mark.parametrize("tile", [32, None], ids=["tiles", "whole"])
@pytest.mark.e2e
def test_adam_in_tiles_alternates_where_vgg19_sees_the_picture_unless_told_not_to_and_nothing_else_does(
    monkeypatch, weights, tile
):
    """The shift each step is given, recorded where the optimizers call it: Adam's alternates in
    tiles only (whole, it measured worse: docs/quality.md#vgg19s-pooling-grid); L-BFGS's never."""
    shifts = []

    def recording(step_function):
        def build(*args, **kwargs):
            step = step_function(*args, **kwargs)
            return lambda targets, shift, *state: (shifts.append(int(shift)), step(targets, shift, *state))[1]

        return build

    for module in (adam, lbfgs):
        monkeypatch.setattr(module, "step_function", recording(module.step_function))
    monkeypatch.setattr(runner, "KEPT_LBFGS_STEPS", CompiledSteps())  # none from earlier runs: each builds its own
    settings = {"size": 64, "scales": 1, "steps": 4, "tile": tile, "halo": 16, "weights": weights, "jit_compile": False}
    stylize(CONTENT, STYLE, Options(optimizer="adam", **settings))
    assert shifts == ([0, 1, 0, 1] if tile else [0, 0, 0, 0])
    shifts.clear()
    stylize(CONTENT, STYLE, Options(optimizer="adam", shift_pooling_grid=False, **settings))
    assert shifts == [0, 0, 0, 0]
    shifts.clear()
    stylize(CONTENT, STYLE, Options(optimizer="lbfgs", **settings))
    assert shifts and set(shifts) == {0}  # its line search compares losses: always the same objective


@pytest.mark.e2e
def test_a_narrow_halo_keeps_the_losses_exact_and_the_gradient_within_its_stated_bound(weights):
    """docs/print.md: with the default halo (48 px) the gradient of a 192 px image in 64 px tiles
    is within 5% of the whole image's (relative L2; measured 3.4%, and 69% without a halo) and
    the total loss within 0.1% (measured 0.05%): features near a crop's edge see zeros beyond it."""
    photo = load_image(CONTENT, 192)
    image = np.clip(photo + rng(1).normal(0.0, 0.1, photo.shape), 0.0, 1.0).astype(np.float32)
    options = Options(size=192, weights=weights, jit_compile=False)
    painting = load_image(STYLE, 192)
    whole = losses_and_gradient(Objective(photo, painting, options), image)
    tiled = losses_and_gradient(TiledObjective(photo, painting, options, tile=64, halo=options.halo), image)
    narrow = losses_and_gradient(TiledObjective(photo, painting, options, tile=64, halo=0), image)
    within("the default halo: gradient against the whole image's, relative L2", relative_error(tiled[1], whole[1]),
           below=0.05)  # fmt: skip
    helped = relative_error(narrow[1], whole[1]) / relative_error(tiled[1], whole[1])  # the halo is what helps
    within("no halo's gradient error over the default halo's", helped, above=1.0)
    difference = relative_difference(tiled[0]["total"], whole[0]["total"])
    within("the default halo: total loss against the whole image's, relative", difference, at_most=1e-3)


@pytest.mark.e2e
def test_a_run_that_does_not_fit_whole_in_max_memory_runs_in_tiles_and_writes_its_size(tmp_path, weights, monkeypatch):
    """Also: the cycle collector runs before the size in tiles and after it, and not after the
    small sizes before it (runner.COLLECTED_FROM_SIZE)."""
    events = []
    monkeypatch.setattr(gc, "collect", lambda *arguments: events.append("collect"))
    run_size = runner.Run.run_size
    monkeypatch.setattr(runner.Run, "run_size", lambda run, size: events.append("size") or run_size(run, size))
    height, width = load_image(CONTENT, 192).shape[:2]
    painting = load_image(STYLE, 192).shape[1::-1]
    # The whole image, with the one pair a step keeps, no longer fits in the share of the limit
    # that runs are planned to.
    whole = estimate_peak_mb(Options(size=192, halo=16, lbfgs_history=1), height, width, [painting])
    limit = memory.limit_needed_mb(whole - 1)
    plan = plan_size(Options(size=192, halo=16, max_memory=limit), height, width, [painting], steps=1)
    assert plan is not None and plan.tile is not None
    output, report = tmp_path / "print.png", tmp_path / "report.json"
    result = nst_here(CONTENT, STYLE, "-o", output, "--size", 192, "--steps", 1, "--coarse-steps", 1, "--halo", 16,
                      "--max-memory", limit, "--no-jit-compile", "--weights", weights, "--report", report)  # fmt: skip
    assert result.returncode == 0, result.stderr
    with Image.open(output) as picture:
        assert picture.size == (width, height)
    sizes = json.loads(report.read_text())["sizes"]
    assert sizes[-1]["tile"] == plan.tile and sizes[-1]["tiles"] > 1
    small = [size for size in sizes[:-1] if size["tile"] is None and size["size"] < runner.COLLECTED_FROM_SIZE]
    assert len(small) == len(sizes) - 1 > 0
    assert events == ["size"] * len(small) + ["collect", "size", "collect"]


@pytest.mark.e2e
def test_a_ladder_never_enlarges_a_small_painting_and_measures_speckle_against_its_own_grain(weights, monkeypatch):
    painting = load_image(STYLE, 48)  # smaller than the 96 px output
    seen = []
    original = Objective.__init__

    def record(self, content, style, *args, **kwargs):
        seen.append([max(each.shape[:2]) for each in style])
        original(self, content, style, *args, **kwargs)

    monkeypatch.setattr(Objective, "__init__", record)
    result = stylize(CONTENT, painting, size=96, scales=2, scale_start=48, steps=1, coarse_steps=1, weights=weights)
    assert seen == [[48], [48]]  # not blown up into a blurred 96 px target at the larger size
    height, width = result.pixels.shape[:2]
    photo = np.asarray(Image.open(CONTENT).convert("RGB").resize((width, height), Image.Resampling.LANCZOS)) / 255
    expected = measures.noise(result.pixels, photo, [painting])  # the painting at its own 48 px
    difference = relative_difference(result.report["final"]["noise"], expected)
    within("a ladder's noise against the painting at its own size, relative", difference, at_most=1e-3)


# Runs the command in a process of its own and prints the peak resident memory of that run alone.
_PEAK_OF_ONE_RUN = (
    "import json, resource, subprocess, sys\n"
    "done = subprocess.run([sys.executable, '-m', 'nst', *sys.argv[1:]], capture_output=True, text=True)\n"
    "print(json.dumps([done.returncode, done.stderr, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))"
)


@pytest.mark.e2e
@pytest.mark.parametrize(("size", "limit"), [(256, 1800), (384, 2000)])
def test_the_peak_of_a_run_stays_within_max_memory(tmp_path, weights, size, limit):
    """The whole process's maximum resident set (the figure a user's `time -v` gives), not the
    estimate, stays within the limit, at two sizes whose largest size runs in tiles."""
    report = tmp_path / "report.json"
    arguments = [str(CONTENT), str(STYLE), "-o", str(tmp_path / "out.png"), "--size", str(size), "--max-memory",
                 str(limit), "--steps", "3", "--coarse-steps", "3", "--quiet", "--report", str(report)]  # fmt: skip
    environment = {**os.environ, "NST_WEIGHTS": weights}
    environment.pop(memory.MEMORY_VARIABLE, None)
    finished = subprocess.run([sys.executable, "-c", _PEAK_OF_ONE_RUN, *arguments], capture_output=True, text=True,
                              env=environment, timeout=600, check=True)  # fmt: skip
    returncode, stderr, peak_kb = json.loads(finished.stdout)
    assert returncode == 0, stderr
    sizes = json.loads(report.read_text())["sizes"]
    assert sizes[-1]["tile"] is not None  # planned into tiles by the limit
    # What each size was planned to and peaked at, and where: the machine is what differs.
    planned = [(size["tile"], size["optimizer"], size["estimate_mb"], size["peak_mb"]) for size in sizes]
    with open("/proc/cpuinfo") as cpuinfo:  # Linux's, as ru_maxrss in KiB above
        cpu = next((line.strip() for line in cpuinfo if line.startswith("model name")), platform.machine())
    print(f"planned (tile, optimizer, estimate, peak): {planned}; CPUs {os.sched_getaffinity(0)}; {cpu}")
    within(f"{size} px in {limit} MB: the process's peak, MB", peak_kb / 1024, at_most=limit)


@pytest.mark.e2e
def test_where_lbfgs_does_not_fit_even_in_tiles_a_size_runs_with_adam_in_tiles(weights):
    options = Options(size=192, halo=16, steps=2, ladder="print", weights=weights, jit_compile=False)
    height, width = load_image(CONTENT, 192).shape[:2]
    painting = load_image(STYLE, 192).shape[1::-1]
    lbfgs = estimate_tiled_mb(options, height, width, 128, 2, [painting])
    adam = estimate_tiled_mb(dataclasses.replace(options, optimizer="adam"), height, width, 128, 2, [painting])
    limit = memory.limit_needed_mb((lbfgs + adam) / 2)  # room for Adam's state, not for L-BFGS's
    result = stylize(CONTENT, STYLE, options, max_memory=limit)
    (size,) = result.report["sizes"]
    assert (size["optimizer"], size["tile"], size["steps"]) == ("adam", 128, 2)
    assert result.pixels.shape[:2] == (height, width)


@pytest.mark.core
@pytest.mark.e2e
def test_on_a_gpu_its_free_and_total_memory_come_from_the_backends_allocator(monkeypatch):
    """The backend's own query on a GPU (faked: there is none here) gives (free, total) in MB."""
    gib = 2**30
    monkeypatch.setattr(backend, "device", lambda: "GPU (NVIDIA Fake)")
    if backend.name() == "tensorflow":
        import tensorflow as tf
        from tensorflow.python.client import device_lib

        devices = [SimpleNamespace(device_type="CPU", memory_limit=gib), SimpleNamespace(device_type="GPU",
                   memory_limit=8 * gib)]  # fmt: skip
        monkeypatch.setattr(device_lib, "list_local_devices", lambda: devices)
        monkeypatch.setattr(tf.config.experimental, "get_memory_info", lambda name: {"current": 2 * gib, "peak": 0})
    elif backend.name() == "jax":
        import jax

        stats = {"bytes_limit": 8 * gib, "bytes_in_use": 2 * gib, "peak_bytes_in_use": 3 * gib}
        monkeypatch.setattr(jax, "devices", lambda: [SimpleNamespace(memory_stats=lambda: stats)])
    else:
        import torch

        monkeypatch.setattr(torch.cuda, "mem_get_info", lambda: (5 * gib, 8 * gib))  # what the driver has free
        monkeypatch.setattr(torch.cuda, "memory_reserved", lambda: 2 * gib)  # PyTorch's, 1 GiB of it unused
        monkeypatch.setattr(torch.cuda, "memory_allocated", lambda: gib)
    assert backend.device_memory_mb() == (6144.0, 8192.0)
    monkeypatch.setattr(backend, "device", lambda: "CPU")
    assert backend.device_memory_mb() is None


@pytest.mark.core
@pytest.mark.e2e
def test_on_a_gpu_sizes_are_planned_in_its_free_memory_and_on_the_cpu_in_the_hosts(monkeypatch, weights):
    options = Options(size=96, halo=16, steps=1, optimizer="adam", weights=weights, jit_compile=False)
    height, width = load_image(CONTENT, 96).shape[:2]
    painting = load_image(STYLE, 96).shape[1::-1]
    whole = estimate_peak_mb(options, height, width, [painting])
    monkeypatch.setattr(memory.psutil, "virtual_memory", lambda: SimpleNamespace(available=64 * 2**30))
    # Free and total, in MB: the whole image no longer fits, nor (at 96 px) do tiles, which cost
    # their compiled functions.
    gpu_memory = (memory.limit_needed_mb(whole - 1), 80_000.0)
    monkeypatch.setattr(backend, "device_memory_mb", lambda: gpu_memory)
    assert memory.available_mb() == gpu_memory[0]
    with pytest.raises(NstError, match=rf"^96 px needs about \d+ MB and {gpu_memory[0]:.0f} MB are available"):
        stylize(CONTENT, STYLE, options)
    monkeypatch.setattr(backend, "device_memory_mb", lambda: None)  # on the CPU: the host's 64 GiB
    assert memory.available_mb() == 64 * 1024
    monkeypatch.setattr(backend, "peak_device_memory_mb", lambda: 1234.4)  # the report says a GPU's peak
    (size,) = stylize(CONTENT, STYLE, options, steps=0).report["sizes"]  # the plan and report, no step to compile
    assert size["tile"] is None and size["peak_device_mb"] == 1234 and size["peak_mb"] > 0


@pytest.mark.e2e
def test_a_picture_too_large_to_score_whole_is_scored_in_tiles_with_the_whole_ones_numbers(weights):
    """nst score of a print: in tiles, with a halo as wide as block5_conv1 sees, the losses are the
    whole image's within 1e-4 (here 320x213 px in 112 px tiles, 304 px crops: tiles really cut,
    the middle column's crop exactly its halo short of the picture's left edge)."""
    picture = np.clip(load_image(CONTENT, 320) + 0.1, 0.0, 1.0)
    options = Options(size=320, weights=weights, jit_compile=False)
    whole = score(picture, CONTENT, STYLE, options)
    tiled = score(picture, CONTENT, STYLE, dataclasses.replace(options, tile=112))
    for name in ("content", "style", "tv", "total"):
        difference = relative_difference(tiled[name], whole[name])
        within(f"scored in tiles: {name} loss against the whole image's, relative", difference, at_most=1e-4)
    assert tiled["grid"] == whole["grid"] and tiled["noise"] == whole["noise"]


@pytest.mark.e2e
def test_a_ladder_run_in_tiles_leaves_no_stray_line_or_lattice(weights):
    """The print's defects of docs/notes/print-nst-0.2.md, at a small size: a ladder run whose
    last size runs in tiles (their crop edges inside the picture) has no row or column standing
    out over its neighbours more than the photo's own most prominent one, and its enlargement
    left no periodic pattern, both within the print bound."""
    options = Options(size=200, tile=128, halo=32, coarse_steps=20, steps=6, weights=weights, jit_compile=False)
    result = stylize(CONTENT, STYLE, options)
    assert [size["size"] for size in result.report["sizes"]] == [128, 200]
    assert result.report["sizes"][-1]["tiles"] > 1
    within("a ladder in tiles: lines", result.report["final"]["lines"], at_most=measures.MAX_LINES)
    within("a ladder in tiles: lattice", result.report["final"]["lattice"], at_most=measures.MAX_LATTICE)
