"""The one exception type the command line turns into a one-line message."""


class InrdictError(Exception):
    """Bad input or an impossible request the user can fix.

    The message is one sentence that names the problem and what to do about it. The CLI prints it on
    stderr and exits non-zero; any other exception is a bug and keeps its traceback.
    """


class DivergenceError(InrdictError):
    """Training produced a non-finite loss."""
