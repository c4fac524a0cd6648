"""Time to quality: nst's default method against the spec's loop, on the same objective.

    NST_WEIGHTS=... python benchmarks/time_to_quality.py                    # the table
    NST_WEIGHTS=... python benchmarks/time_to_quality.py --record-reference # re-record the curves

The objective is the default loss at the output size. The reference is the spec's loop on it:
Adam (0.02, 0.99, 0.1) from the photo, clipped, one scale, 1000 steps at 256 px and 300 at
512 px; its objective after those steps is the target. Its loss curve (objective after each
step) is recorded once into reference_curves.json; every run re-measures its seconds per step,
so its time is (steps to reach the target) x (seconds per step now). For the default method,
the wall time from calling stylize until the objective at the output size first reaches the
target and its picture passes the artefact bounds (``grid`` <= 1.05, ``noise`` <= 1.3, see
nst.media.measures); the table also gives the step at which the objective alone first reached it.
Each method runs in its own process, for its peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "examples" / "cat.jpg"
STYLE = ROOT / "examples" / "starry-night.jpg"
CURVES = Path(__file__).resolve().parent / "reference_curves.json"
REFERENCE_STEPS = {256: 1000, 512: 300}
TIMED_REFERENCE_STEPS = 15
MAX_STEPS = 2000


def reference_options(size: int, steps: int):
    """The spec's loop (its optimizer, start and clipping) on the default objective."""
    from nst import Options

    spec = Options.preset("spec")
    return Options(
        size=size,
        steps=steps,
        optimizer=spec.optimizer,
        learning_rate=spec.learning_rate,
        beta_1=spec.beta_1,
        epsilon=spec.epsilon,
        init=spec.init,
    )


def record_reference(size: int) -> list[float]:
    """The reference's objective after each of its steps (one more evaluation at the end)."""
    from nst import stylize

    curve: list[float] = []
    result = stylize(
        CONTENT,
        STYLE,
        reference_options(size, REFERENCE_STEPS.get(size, 300)),
        callback=lambda p: curve.append(p.losses["total"]),
    )
    return curve[1:] + [result.report["final"]["total"]]  # losses are measured before each step


def time_reference_step(size: int) -> list[float]:
    from nst import stylize

    stamps: list[float] = []
    stylize(
        CONTENT,
        STYLE,
        reference_options(size, TIMED_REFERENCE_STEPS + 1),
        callback=lambda p: stamps.append(time.perf_counter()),
    )
    return [later - earlier for earlier, later in zip(stamps, stamps[1:], strict=False)]


class _Reached(Exception):
    """Ends the default method's run once it has reached the target: the rest is not timed."""


def run_default(size: int, target: float) -> dict:
    """Our default method as a user runs it, timed from the call, until it reaches the target.

    Every setting is the default except ``steps``, which is a limit, not part of the method:
    it is lifted so that the run can go on until it reaches the target, wherever that is."""
    from nst import Options, stylize
    from nst.media.measures import is_clean
    from nst.run import ladder
    from nst.run.report import picture_measures

    trace: list[tuple[float, float]] = []  # (seconds since the call, objective at the output size)
    scales = ladder.scale_sizes(Options(size=size))
    started = time.perf_counter()
    seen: dict[str, float] = {}
    first_below: list[int] = []

    def watch(progress) -> None:
        if progress.scale == len(scales):
            trace.append((time.perf_counter() - started, progress.losses["total"]))
            if progress.losses["total"] <= target:
                # The picture must pass too. With L-BFGS the image shown is the one evaluated.
                first_below[:] = first_below or [len(trace)]
                seen.update(picture_measures(progress.image(), CONTENT, STYLE))
                if is_clean(seen):
                    raise _Reached

    reached = None
    try:
        stylize(CONTENT, STYLE, size=size, steps=MAX_STEPS, callback=watch)
    except _Reached:
        reached = trace[-1][0]
    return {
        "trace": trace,
        "reached_s": reached,
        "steps": len(trace),
        "objective_steps": first_below[0] if first_below else None,
        "wall_s": time.perf_counter() - started,
        **seen,
    }


def child(task: str, size: int, target: float | None) -> None:
    from nst.core.features import load_vgg19
    from nst.options import Options

    load_vgg19(Options().resolved_weights())  # both methods start with the model in memory
    if task == "record":
        output = {"curve": record_reference(size)}
    elif task == "reference":
        output = {"step_s": time_reference_step(size)}
    else:
        output = run_default(size, target)
    output["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(output))


def spawn(task: str, size: int, target: float = 0.0) -> dict:
    command = [sys.executable, __file__, "--child", task, "--sizes", str(size), "--target", str(target)]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        sys.exit(completed.stderr)
    return json.loads(completed.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--record-reference", action="store_true", help="re-run the reference and save its curves")
    parser.add_argument("--curves", type=Path, default=CURVES, help="where the reference curves are kept")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--target", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.sizes[0], args.target)
        return
    curves = json.loads(args.curves.read_text()) if args.curves.exists() else {}
    if args.record_reference:
        for size in args.sizes:
            curves[str(size)] = spawn("record", size)["curve"]
            args.curves.write_text(json.dumps(curves) + "\n")
    header = (
        f"{'size':>4} {'ref steps':>9} {'target':>10} {'ref s/step':>10} {'ref time s':>10} {'nst time s':>10}"
        f" {'nst steps':>9} {'ratio':>6} {'ref obj @ nst time':>18} {'ref MB':>7} {'nst MB':>7}"
        f" {'obj-only steps':>14} {'grid':>5} {'noise':>5}"
    )
    print(header)
    for size in args.sizes:
        curve = curves[str(size)]
        target = curve[-1]
        steps_to_target = next(step for step, value in enumerate(curve, start=1) if value <= target)
        reference = spawn("reference", size)
        seconds_per_step = statistics.median(reference["step_s"])
        reference_time = steps_to_target * seconds_per_step
        ours = spawn("default", size, target)
        reached = ours["reached_s"]
        ratio = f"{reference_time / reached:6.1f}" if reached else "   n/a"
        at_equal_time = curve[min(len(curve), max(1, int((reached or ours["wall_s"]) / seconds_per_step))) - 1]
        print(
            f"{size:>4} {steps_to_target:>9} {target:>10.4g} {seconds_per_step:>10.3f} {reference_time:>10.1f}"
            f" {(reached or float('nan')):>10.1f} {ours['steps']:>9} {ratio} {at_equal_time:>18.4g}"
            f" {reference['peak_rss_mb']:>7.0f} {ours['peak_rss_mb']:>7.0f}"
            f" {ours['objective_steps'] or 0:>14} {ours.get('grid', float('nan')):>5.3f}"
            f" {ours.get('noise', float('nan')):>5.3f}"
        )


if __name__ == "__main__":
    main()
