"""Writing output files: checked before any work, written all at once or not at all.

Every write failure is an :class:`~peermatch.errors.OutputError` naming the file and
what to do, never a bare ``OSError``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .errors import OutputError

__all__ = ["check_writable", "write_all", "STDOUT"]

#: The output name that means standard output (``--out -``), where a command allows it.
STDOUT = "-"


def check_writable(paths: Sequence[str | os.PathLike], *, inputs: Sequence = (),
                   stdout_ok: bool = False) -> None:
    """Fail now, before any solving, if an output could not be written later.

    Each path must not be a folder, its folder must exist and be writable, two
    outputs must not share a path, and no output may overwrite an input file.
    ``-`` means standard output: allowed once when ``stdout_ok``, else refused (it is
    never taken for a file named ``-``; write ``./-`` for that).

    Raises
    ------
    OutputError
        Naming the path, what is wrong and what to do.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> check_writable([d + "/groups.csv"])
    >>> try:
    ...     check_writable([d])
    ... except OutputError as exc:
    ...     print("is a folder" in str(exc))
    True
    """
    seen: dict[str, str] = {}
    ins = {os.path.realpath(os.fspath(p)) for p in inputs if p is not None}
    to_stdout = [raw for raw in paths if os.fspath(raw) == STDOUT]
    if to_stdout and not stdout_ok:
        raise OutputError("cannot write '-': standard output is not available for this "
                          "output. Name a file (./- for a file named '-').")
    if len(to_stdout) > 1:
        raise OutputError("cannot write '-' twice: only one output can go to standard "
                          "output. Name a file for the others.")
    for raw in paths:
        if os.fspath(raw) == STDOUT:
            continue
        path = Path(raw)
        real = os.path.realpath(path)
        if real in seen:
            raise OutputError(f"cannot write {raw}: named for two outputs ({seen[real]} and "
                              f"{raw}). Give each output its own file.")
        seen[real] = os.fspath(raw)
        if real in ins:
            raise OutputError(f"cannot write {raw}: it is also an input file, which would be "
                              "overwritten. Choose another output file.")
        if path.is_dir():
            raise OutputError(f"cannot write {raw}: it is a folder, not a file. Name a file "
                              f"inside it, e.g. {path / 'groups.csv'}.")
        folder = path.parent if str(path.parent) else Path(".")
        if not folder.is_dir():
            raise OutputError(f"cannot write {raw}: the folder {folder} does not exist. Check "
                              "that the folder exists and is writable, or choose another path.")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputError(f"cannot write {raw}: the folder {folder} is not writable. Check "
                              "that the folder exists and is writable, or choose another path.")
        if path.exists() and not os.access(path, os.W_OK):
            raise OutputError(f"cannot write {raw}: the file exists and is read-only. Choose "
                              "another path or make it writable.")


def write_all(items: Sequence[tuple[str | os.PathLike, str]], *,
              stdout_ok: bool = False) -> None:
    """Write every ``(path, text)`` pair, all or nothing.

    Each text goes to a temporary file beside its path first; only when all of them
    are written are they renamed into place, so a failure leaves no partial set of
    outputs behind (and a reader never sees half a file). With ``stdout_ok``, a path
    ``-`` is standard output, written last, once every file is in place (else refused,
    as by :func:`check_writable`).

    Raises
    ------
    OutputError
        When any of the files cannot be written; none of them is then replaced.

    Examples
    --------
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> write_all([(os.path.join(d, "a.txt"), "a"), (os.path.join(d, "b.txt"), "b")])
    >>> sorted(os.listdir(d))
    ['a.txt', 'b.txt']
    """
    check_writable([p for p, _ in items], stdout_ok=stdout_ok)
    to_stdout = [text for p, text in items if os.fspath(p) == STDOUT]
    items = [(p, text) for p, text in items if os.fspath(p) != STDOUT]
    tmps: list[tuple[str, Path]] = []
    try:
        umask = os.umask(0)
        os.umask(umask)
        for raw, text in items:
            path = Path(raw)
            try:
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
                tmps.append((tmp, path))
                with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                    fh.write(text)
                # mkstemp makes the file private (0600); give it the usual permissions.
                os.chmod(tmp, 0o666 & ~umask)
            except OSError as exc:
                raise OutputError(f"cannot write {raw} ({exc.strerror or exc}). Check that "
                                  "the folder exists, is writable and has space.") from None
        done = 0
        for tmp, path in tmps:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise OutputError(f"cannot write {path} ({exc.strerror or exc}); {done} of "
                                  f"{len(tmps)} output(s) were already replaced.") from None
            done += 1
        tmps = []
    finally:
        for tmp, _ in tmps:
            if os.path.exists(tmp):
                os.unlink(tmp)
    for text in to_stdout:
        sys.stdout.write(text)
        sys.stdout.flush()
