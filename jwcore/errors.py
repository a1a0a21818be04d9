"""Errors a user can cause.  The CLI prints them as one line and exits non-zero.

Anything that is *not* a :class:`JwcalError` is a bug in jwcal or a plugin and keeps its
traceback.
"""


class JwcalError(Exception):
    """A user-facing error: bad input, missing reference, bad option.  ``str(err)`` is one line."""

    exit_code = 2


class BadInputError(JwcalError):
    """The input file or association is not something jwcal can process."""


class ReferenceError_(JwcalError):
    """No reference file could be selected, or the one given is unusable."""


class ParameterError(JwcalError):
    """An unknown step, unknown parameter or a value of the wrong type."""


class PluginError(JwcalError):
    """A plugin registered something inconsistent (duplicate names, unknown steps)."""


ReferenceFileError = ReferenceError_


class ReferenceShapeError(ReferenceError_, ValueError):
    """A reference array does not cover the exposure's pixels (also a ValueError, for callers
    that treat a shape mismatch as "not applicable")."""
