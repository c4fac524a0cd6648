"""The front ends, thin shells around the library (:mod:`nst`): the ``nst`` command
(:mod:`~nst.apps.cli`: pictures, scores, many pictures on Ray, video clips) and the web app
(:mod:`~nst.apps.web`). They parse and show; what they run is the library's (:mod:`nst.run`:
:func:`nst.stylize`, :func:`nst.stylize_many`, :func:`nst.stylize_video`), which imports nothing
of them.

None of them imports Keras or TensorFlow when it is imported: each loads the run
(:mod:`nst.run.api`) only once its inputs have been checked, so a bad option is refused at once.
"""
