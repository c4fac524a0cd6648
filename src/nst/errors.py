"""The errors users see: NstError, and the two ways a run can stop early with its picture kept."""


class NstError(Exception):
    """A problem the user can fix: a bad option, an unreadable image, unusable weights.

    Its message is a single line written for people; the command line prints it as is,
    without a traceback.
    """


class StoppedEarly(NstError):
    """The loss or its gradient stopped being a finite number; ``result`` holds the last
    picture whose loss was finite, so the run is not lost."""

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a run; ``result`` holds the picture so far."""

    def __init__(self, result: object) -> None:
        super().__init__()
        self.result = result


class WorkersLost(NstError):
    """Every Ray worker running a picture's tiles was lost: the step cannot complete."""
