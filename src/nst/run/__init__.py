"""A run, from the inputs to the report: :func:`nst.stylize`, :func:`nst.score` and
:func:`nst.reproduce` (:mod:`~nst.run.api`), the loop over the ladder of sizes
(:mod:`~nst.run.runner`), the step plan and time budget (:mod:`~nst.run.plan`), the inputs and
their checks (:mod:`~nst.run.inputs`), the report (:mod:`~nst.run.report`), memory plans
(:mod:`~nst.run.memory`), checkpoints and snapshots.

Only ``api``, ``runner`` and ``report`` load Keras (through :mod:`nst.core`); the command line
uses the others (checks, memory plans, the result and progress types) before TensorFlow starts,
so this package imports nothing of its own here.
"""
