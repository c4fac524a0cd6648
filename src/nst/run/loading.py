"""Loading the run quietly: what a front end calls once its inputs have been checked, and what a
batch's workers (:mod:`nst.run.batch_workers`) call as they start."""

from __future__ import annotations

import logging
from types import ModuleType


def hide_tensorflow_warnings() -> None:
    """TensorFlow's Python logger keeps to errors. Each size of the ladder compiles its own step, and
    TensorFlow warns about that: a note for programmers, not for someone waiting on a picture.
    (Its C++ notices are hidden as it starts, by nst.quiet_start.)"""
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def load_run() -> ModuleType:
    """:mod:`nst.run.api` (``stylize``, ``score``, ``reproduce``), TensorFlow started quietly:
    called by a front end once its inputs have been checked, and by a batch's worker."""
    hide_tensorflow_warnings()
    from nst.run import api

    return api
