"""What keeping fewer L-BFGS pairs, or Adam, costs at a print's larger sizes.

    NST_WEIGHTS=... python benchmarks/print_optimizers.py [--base 384] [--size 768] [--steps 12]

A print's larger sizes start from the enlarged result of the size before and take few steps
(nst.run.ladder.steps_per_size). At 4096 px one image is 120 MB, so L-BFGS's pairs (two
images each, and a second copy while a new pair is pushed) are what fills the memory. This
runs the viewing size once (100 L-BFGS steps), enlarges it, and then takes the same few steps
at the larger size with each choice, printing the objective, the picture measures and how many
image-sized arrays the optimizer holds.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "examples" / "cat.jpg"
STYLE = ROOT / "examples" / "starry-night.jpg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=int, default=384)
    parser.add_argument("--size", type=int, default=768)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--pairs", type=int, nargs="+", default=[30, 10, 5, 3])
    parser.add_argument("--adam-rates", type=float, nargs="+", default=[0.02])
    args = parser.parse_args()
    from nst import stylize

    with tempfile.TemporaryDirectory() as folder:
        start = Path(folder) / "base.png"
        stylize(CONTENT, STYLE, size=args.base, steps=100).save(start)
        choices = [("lbfgs", pairs) for pairs in args.pairs] + [("adam", rate) for rate in args.adam_rates]
        print(f"{'optimizer':>9} {'pairs/lr':>8} {'objective':>10} {'style':>10} {'grid':>6} {'noise':>6}")
        start_losses = None
        for optimizer, setting in choices:
            settings = {"lbfgs_history": setting} if optimizer == "lbfgs" else {"learning_rate": setting}
            result = stylize(CONTENT, STYLE, size=args.size, steps=args.steps, init=str(start), optimizer=optimizer,
                             **settings)  # fmt: skip
            history, final = result.report["history"], result.report["final"]
            start_losses = start_losses or history[0]
            print(f"{optimizer:>9} {setting:>8} {final['total']:>10.4g} {final['style']:>10.4g}"
                  f" {final['grid']:>6.3f} {final['noise']:>6.3f}", flush=True)  # fmt: skip
        print(f"the enlarged start: objective {start_losses['total']:.4g}, style {start_losses['style']:.4g}")


if __name__ == "__main__":
    main()
