"""Exceptions shared by every agser stage.

``ParameterError`` is for a wrong parameter or a missing path: the run stops at
once. ``InputError`` is for one bad utterance (a truncated video, silent
audio, ...): a per-utterance stage records it in the run's failure table and
goes on with the rest.
"""

__all__ = ["AgserError", "ParameterError", "InputError"]


class AgserError(Exception):
    """Root of every error agser raises on purpose."""


class ParameterError(AgserError, ValueError):
    """A parameter or path is wrong; the message names the bad value.

    Examples
    --------
    >>> raise ParameterError("k=0 must be a positive integer")
    Traceback (most recent call last):
    ...
    agser.errors.ParameterError: k=0 must be a positive integer
    """


class InputError(AgserError):
    """One utterance's input is unusable; the message is a one-line reason.

    Parameters
    ----------
    reason : str
        What is wrong, naming the file or value.
    stage : str, optional
        The stage that found it (``"landmarks"``, ``"phones"``, ...).
    """

    def __init__(self, reason, stage=None):
        super().__init__(reason)
        self.reason = str(reason)
        self.stage = stage
