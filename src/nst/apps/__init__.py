"""The front ends, thin shells around :func:`nst.stylize`: the ``nst`` command
(:mod:`~nst.apps.cli`), the web app (:mod:`~nst.apps.web`), many pictures on Ray
(:mod:`~nst.apps.batch`) and video clips (:mod:`~nst.apps.video`).

None of them imports Keras or TensorFlow when it is imported: each loads the run
(:mod:`nst.run.api`) only once its inputs have been checked, so a bad option is refused at once.
"""
