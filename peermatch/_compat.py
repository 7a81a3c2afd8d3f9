"""Old keyword names that keep working for a release, with a DeprecationWarning."""

from __future__ import annotations

import functools
import warnings


def renamed_keywords(**old_to_new: str):
    """Decorator: each keyword ``old=`` still works as ``new=``, with a DeprecationWarning.

    >>> @renamed_keywords(table_or_path="groups")
    ... def f(groups):
    ...     return groups
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(table_or_path=1), w[0].category.__name__
    (1, 'DeprecationWarning')
    """
    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    warnings.warn(f"{fn.__name__}({old}=...) is deprecated; call it "
                                  f"{fn.__name__}({new}=...)", DeprecationWarning,
                                  stacklevel=2)
                    if new in kwargs:
                        raise TypeError(f"{fn.__name__}() got both {old!r} and {new!r}")
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return wrapper

    return decorate
