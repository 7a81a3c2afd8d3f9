"""Old keyword names that keep working for a release, with a DeprecationWarning."""

from __future__ import annotations

import functools
import warnings

from .errors import ConfigError


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


def group_size_pair(fn):
    """Decorator: the old ``group_size=(min, max)`` still works as ``min_size=, max_size=``.

    It warns with a DeprecationWarning; ``group_size=None`` leaves both bounds unset.

    >>> @group_size_pair
    ... def f(*, min_size=None, max_size=None):
    ...     return min_size, max_size
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     f(group_size=(4, 6)), w[0].category.__name__
    ((4, 6), 'DeprecationWarning')
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        name = fn.__qualname__  # e.g. MatchResult.as_grouping
        if "group_size" in kwargs:
            warnings.warn(f"{name}(group_size=(min, max)) is deprecated; call it "
                          f"{name}(min_size=..., max_size=...)", DeprecationWarning,
                          stacklevel=2)
            if "min_size" in kwargs or "max_size" in kwargs:
                raise TypeError(f"{name}() got both 'group_size' and "
                                "'min_size'/'max_size'")
            pair = kwargs.pop("group_size")
            if pair is not None:
                try:
                    kwargs["min_size"], kwargs["max_size"] = pair
                except (TypeError, ValueError):
                    raise ConfigError(f"The 'group_size' parameter of {name} must be a "
                                      f"(min, max) pair. Got {pair!r} instead.") from None
        return fn(*args, **kwargs)

    return wrapper
