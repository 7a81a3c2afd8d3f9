"""Where numba caches the compiled kernels, decided once before any kernel is defined.

Internal module. ``CACHE`` is the ``cache=`` flag of every kernel: the package's own
``__pycache__`` when it is writable (the usual install), else ``NUMBA_CACHE_DIR`` when the
user set one that is writable, else a folder in the temporary directory; when nothing is
writable (a read-only install on a read-only system) the kernels compile in memory on
each run instead of failing (numba refuses ``cache=True`` without a writable place).
"""

from __future__ import annotations

import os
import tempfile

from numba import config

__all__ = ["CACHE", "cache_dir"]


def _writable(folder: str) -> bool:
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def _decide() -> tuple[bool, str | None]:
    here = os.path.dirname(os.path.abspath(__file__))
    if config.CACHE_DIR:  # NUMBA_CACHE_DIR, numba's own first choice
        if _writable(config.CACHE_DIR):
            return True, config.CACHE_DIR
    elif _writable(os.path.join(here, "__pycache__")):
        return True, os.path.join(here, "__pycache__")
    try:
        fallback = os.path.join(tempfile.gettempdir(), "peermatch-numba-cache")
    except (OSError, FileNotFoundError):  # no usable temporary directory at all
        return False, None
    if _writable(fallback):
        config.CACHE_DIR = fallback  # read when a cached kernel is defined
        return True, fallback
    return False, None


#: ``cache=`` of every ``@njit`` in peermatch: False only when nothing is writable.
CACHE, _DIR = _decide()


def cache_dir() -> str | None:
    """The folder of the compiled kernels' cache, or None (compiled in memory each run).

    >>> cache_dir() is None or isinstance(cache_dir(), str)
    True
    """
    return _DIR
