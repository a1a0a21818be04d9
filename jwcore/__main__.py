"""``python -m jwcore`` is ``jwcal``."""

from .cli.main import entry

entry()
