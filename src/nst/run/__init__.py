"""A run, from the inputs to the report: :func:`nst.stylize`, :func:`nst.score` and
:func:`nst.reproduce` (:mod:`~nst.run.api`), the loop over the ladder of sizes
(:mod:`~nst.run.runner`; where each size starts: :mod:`~nst.run.sizes`), the step plan and time
budget (:mod:`~nst.run.plan`), the inputs and their checks (:mod:`~nst.run.inputs`), the report
(:mod:`~nst.run.report`), memory plans (:mod:`~nst.run.memory`), checkpoints and snapshots.
And the runs of many pictures: :func:`nst.stylize_video` (:mod:`~nst.run.video`, its plan in
:mod:`~nst.run.clip_plan` and its finished frames in :mod:`~nst.run.frame_store`),
:func:`nst.stylize_many` on Ray (:mod:`~nst.run.batch`, its workers in
:mod:`~nst.run.batch_workers`), a print's tiles on Ray (:mod:`~nst.run.tile_workers`), with what
they share of Ray in :mod:`~nst.run.cluster`.

Only ``api``, ``runner`` and ``report`` load Keras (through :mod:`nst.core`), and video and batch
load the run once a clip or a batch has been checked (:mod:`~nst.run.loading`); the command line
uses the others (checks, memory plans, the result and progress types) before TensorFlow starts,
so this package imports nothing of its own here.
"""
