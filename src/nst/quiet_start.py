"""TensorFlow, started without its C++ start-up notices; imported by :mod:`nst.core` first.
Under another Keras backend (``KERAS_BACKEND=jax`` or ``torch``) TensorFlow is not imported at all.

While it is imported and looks for devices, TensorFlow's C++ core writes notices straight to
file descriptor 2 ("Could not find cuda drivers", "oneDNN custom operations are on", "All log
messages before absl::InitializeLog()..."), whatever TF_CPP_MIN_LOG_LEVEL says. They are for
TensorFlow's developers, so they are hidden, and TensorFlow's later C++ logs are kept to errors,
unless the user asked for them: TF_CPP_MIN_LOG_LEVEL=0 (TensorFlow's own switch) or NST_DEBUG=1.
"""

from __future__ import annotations

import os
import sys

from nst.options import keras_backend


def _asked_for_logs() -> bool:
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0" or bool(os.environ.get("NST_DEBUG"))


def _start_quietly() -> None:
    if "tensorflow" in sys.modules or keras_backend() != "tensorflow":
        return
    # With oneDNN (TensorFlow's default on x86 CPUs) TensorFlow allocates from a pool of its own that
    # never shrinks: after an 861 px run 2.8 GB stayed with the process, a print's tiled sizes went
    # 1.9 GB over their estimates, and a long-lived process (the web app, a batch worker) would keep
    # the memory of its largest run. The system's allocator gives memory back, with peaks about 10%
    # lower, for about 6% more time per step at 512 px (docs/print.md). Read as TensorFlow starts;
    # TF_ONEDNN_USE_SYSTEM_ALLOCATOR=0 keeps the pool.
    os.environ.setdefault("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "1")
    if _asked_for_logs():
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf

            tf.config.list_physical_devices()  # looks for CUDA, which logs its absence
    finally:
        os.dup2(saved, 2)
        os.close(saved)


_start_quietly()
