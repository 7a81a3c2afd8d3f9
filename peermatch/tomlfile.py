"""TOML files in and out: read one with errors that name it, write simple values.

A low module (it imports only :mod:`peermatch.errors`), so that the weights and the job
configuration can both read TOML without importing each other.
"""

from __future__ import annotations

import os
import tomllib
from typing import Any

from .errors import ConfigError

__all__ = ["read_toml", "toml_value"]


def read_toml(path: str | os.PathLike, what: str = "config") -> dict[str, Any]:
    """A TOML file as a dict; every way of failing is a :class:`ConfigError` naming it.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    what : str, default="config"
        What the file holds, for messages (``"weights"``, ``"config"``).

    Raises
    ------
    ConfigError
        Missing file, a folder, unreadable, not UTF-8, or not valid TOML.

    Examples
    --------
    >>> read_toml("no-such-file.toml", "weights")
    Traceback (most recent call last):
    ...
    peermatch.errors.ConfigError: no-such-file.toml: weights file not found.
    """
    name = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{name}: {what} file not found.") from None
    except IsADirectoryError:
        raise ConfigError(f"{name}: is a folder; expected a TOML {what} file.") from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read the {what} file ({exc.strerror or exc})."
                          ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: not valid TOML (not UTF-8 text).") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{name}: not valid TOML ({exc}).") from None


def toml_value(v: str | float | list) -> str:
    """A string, a number or a list of them as a TOML value (numbers written as floats).

    >>> toml_value('say "hi"'), toml_value(2)
    ('"say \\\\"hi\\\\""', '2.0')
    """
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(float(v))
