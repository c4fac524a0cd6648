"""A half-precision copy of a VGG19 weights file, for a machine that has no copy of its own.

    NST_WEIGHTS=... python benchmarks/half_weights.py OUT.weights.h5

The lent GPU machines take at most 64 MiB of the working tree, and the shared weights file is
66 MB; in float16 it is about 40 MB. ``keras.applications.VGG19(weights=OUT)`` loads it into the
usual float32 network (float16 keeps 3 significant digits: losses move by about 1e-3).
"""

from __future__ import annotations

import os
import sys

import keras


def main(path: str) -> None:
    source = keras.applications.VGG19(include_top=False, weights=os.environ["NST_WEIGHTS"])
    keras.config.set_dtype_policy("float16")
    half = keras.applications.VGG19(include_top=False, weights=None)
    half.set_weights(source.get_weights())
    half.save_weights(path)
    print(f"wrote {path} ({os.path.getsize(path) / 2**20:.1f} MiB)")


if __name__ == "__main__":
    main(sys.argv[1])
