"""Pictures and clips as files and arrays, and what can be measured of them: reading images
(:mod:`~nst.media.images`, 16-bit photos :mod:`~nst.media.sixteen_bit`), resizing them
(:mod:`~nst.media.resizing`) and writing them (:mod:`~nst.media.saving`), animations
(:mod:`~nst.media.animations`), video clips (:mod:`~nst.media.clips`), optical flow
(:mod:`~nst.media.flow`), colour transforms (:mod:`~nst.media.colors`) and the picture measures
(:mod:`~nst.media.measures`, those of its rows and columns :mod:`~nst.media.pattern_measures`).

NumPy, Pillow, and on demand ffmpeg and OpenCV: nothing here imports Keras or TensorFlow, so the
command line reads and checks its inputs before TensorFlow starts.
"""
