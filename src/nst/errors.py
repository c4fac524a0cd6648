"""The one error type users see."""


class NstError(Exception):
    """A problem the user can fix: a bad option, an unreadable image, unusable weights.

    Its message is a single line written for people; the command line prints it as is,
    without a traceback.
    """
