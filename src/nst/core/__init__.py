"""The method: VGG19's features, the losses, the objective (whole or in tiles) and the optimizers
over the pixels, in ``keras.ops`` on whichever backend Keras runs (:mod:`nst.core.backend`).

Every module here imports Keras. Importing this package first starts TensorFlow without its
C++ start-up notices (:mod:`nst.quiet_start`), so that no module of it need care which is
imported first.
"""

import nst.quiet_start  # noqa: F401
