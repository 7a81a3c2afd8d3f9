"""Read a CSV file into cells: bytes -> text -> rows, with messages that name the line.

The first half of :func:`peermatch.candidates.read_candidates`: it knows files,
compression, encodings, delimiters and quoting, and nothing of what the columns mean.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import re
import tarfile
import threading
import warnings
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import CandidatesError, ConfigError, DataWarning

#: At most this many problems of one kind are spelled out in an error message.
MAX_LISTED = 10
#: The longest cell read, in characters. Above the csv module's default (131,072), since
#: free-text notes of CRM exports run to hundreds of kB; a cell longer than this is far
#: more likely a quote that is never closed than data.
MAX_CELL_CHARS = 16 * 1024 * 1024
#: Readable names of the delimiters, for messages.
SEP_NAMES = {",": "comma ','", ";": "semicolon ';'", "\t": "tab", "|": "pipe '|'"}
#: Delimiters tried, in order of preference, when ``sep=None``.
_SNIFF_DELIMITERS = (",", ";", "\t", "|")
_SEP_ALIASES = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
# Excel's delimiter hint, a first line ``sep=;`` (some writers quote it or pad it with
# the delimiter up to the width of the table).
_SEP_HINT_RE = re.compile(r'[ \t]*"?sep=([^\r\n"])"?(?:\1|[ \t])*(\r?\n|\r|$)', re.IGNORECASE)
_QUOTE_HINT = ("A value that contains the separator, a quote or a line break must be enclosed "
               "in double quotes, and a quote inside it doubled (\"\").")
_BZ2_RE = re.compile(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)")
# The csv module's field limit is process-wide: changed and restored under this lock.
_CELL_LIMIT_LOCK = threading.Lock()


def check_sep(sep: str | None) -> str | None:
    """The delimiter ``sep`` as one character (``"tab"`` and ``"\\t"`` become a tab).

    >>> check_sep("tab") == "\\t", check_sep(";"), check_sep(None)
    (True, ';', None)
    """
    if sep is None:
        return None
    if not isinstance(sep, str):
        raise ConfigError(f"sep must be a single character such as ',', ';' or '\\t'. "
                          f"Got {sep!r} instead.")
    sep = _SEP_ALIASES.get(sep.lower() if len(sep) > 1 else sep, sep)
    if not _usable_sep(sep):
        raise ConfigError(f"sep must be a single character such as ',', ';' or '\\t'. "
                          f"Got {sep!r} instead.")
    return sep


def _usable_sep(sep: str) -> bool:
    return len(sep) == 1 and sep not in "\"\r\n" and not sep.isalnum()


# --------------------------------------------------------------------------------------
# Bytes
# --------------------------------------------------------------------------------------

def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_text(path: Path, name: str, encoding: str | None = None) -> str:
    """The decoded text of the CSV file at ``path``.

    A compressed file (gzip, bz2, xz, or a zip or tar archive holding one file) is
    read whatever its name, as pandas does; the text is decoded as ``encoding``, or
    detected (UTF-8, UTF-16/32 with a byte order mark, else Windows-1252 or Latin-1
    with a :class:`~peermatch.errors.DataWarning`).

    Parameters
    ----------
    path : pathlib.Path
        The file.
    name : str
        The file's name as the user gave it, for messages.
    encoding : str, optional
        Text encoding of the (decompressed) file; detected when None.

    Returns
    -------
    str
        The text, without a byte order mark.

    Raises
    ------
    CandidatesError
        If the file is missing, a folder, unreadable, empty, a workbook or another
        binary file, a damaged or unsupported archive, or holds only blank lines.
    ConfigError
        If ``encoding`` is not a known encoding.
    """
    data = _read_bytes(path, name)
    for _ in range(3):  # e.g. .tar.gz: a gzip stream holding a tar archive
        unpacked = _unpack(data, name)
        if unpacked is None:
            break
        data = unpacked
        if not data:
            raise CandidatesError(f"{name}: the compressed file holds an empty file (0 "
                                  "bytes). Expected a CSV with a header line and one row "
                                  "per candidate.")
    _refuse_workbook(data, name)
    return _decode(data, name, encoding)


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        if path.is_dir():
            raise CandidatesError(f"{name}: this is a folder, not a file. Expected the path of "
                                  "a candidates CSV file; pass the file inside it.")
        data = path.read_bytes()
    except FileNotFoundError:
        raise CandidatesError(
            f"{name}: file not found (no such file: {path.absolute()}). Check the spelling "
            f"and the folder; a relative path starts from the current folder "
            f"{Path.cwd()}.") from None
    except IsADirectoryError:
        raise CandidatesError(f"{name}: this is a folder, not a file. Expected the path of "
                              "a candidates CSV file.") from None
    except PermissionError:
        raise CandidatesError(f"{name}: permission denied; the file cannot be read. Check "
                              "its permissions or copy it somewhere readable.") from None
    except OSError as exc:
        raise CandidatesError(f"{name}: the file cannot be read ({exc.strerror or exc}).") \
            from None
    if not data:
        raise CandidatesError(
            f"{name}: the file is empty (0 bytes). Expected a header line naming the columns "
            "(at least 'id', 'industry' and 'employees' or 'revenue') and one row per "
            "candidate below it.")
    return data


def _refuse_workbook(data: bytes, name: str) -> None:
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise CandidatesError(
            f"{name}: this looks like an Excel workbook (or another binary file), not a CSV "
            "text file. Export it as CSV (Excel: File > Save As > CSV UTF-8), or read it "
            "with pandas.read_excel and pass the DataFrame.")


def _unpack(data: bytes, name: str) -> bytes | None:
    """The content of a compressed file or one-file archive; None for anything else."""
    if data.startswith(b"\x1f\x8b"):
        kind, unpack = "gzip", gzip.decompress
    elif _BZ2_RE.match(data):
        kind, unpack = "bz2", bz2.decompress
    elif data.startswith(b"\xfd7zXZ\x00"):
        kind, unpack = "xz", lzma.decompress
    elif data.startswith(b"\x28\xb5\x2f\xfd"):
        raise CandidatesError(
            f"{name}: the file is compressed with Zstandard, which peermatch does not read. "
            "Decompress it first (zstd -d FILE) and pass the CSV file.")
    elif data.startswith(b"PK\x03\x04"):
        return _unzip(data, name)
    elif data[257:262] == b"ustar" and b"\x00" in data[:512]:  # text has no NUL
        return _untar(data, name)
    else:
        return None
    try:
        return unpack(data)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
        raise CandidatesError(
            f"{name}: the file is {kind}-compressed but cannot be decompressed ({exc}); it "
            "is probably cut short or damaged. Copy or export it again, or decompress it "
            "yourself and pass the CSV file.") from None


def _one_member(name: str, kind: str, members: list[str]) -> None:
    if len(members) != 1:
        shown = ", ".join(repr(m) for m in members[:5]) + (", ..." if len(members) > 5 else "")
        raise CandidatesError(
            f"{name}: the {kind} archive holds {len(members)} files ({shown or 'none'}). "
            "Expected exactly one CSV file in it; extract the one you mean and pass it.")


def _unzip(data: bytes, name: str) -> bytes | None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, EOFError):
        return None  # refused as a workbook or another binary file
    with zf:
        members = [i.filename for i in zf.infolist() if not i.is_dir()]
        if "[Content_Types].xml" in members or "mimetype" in members:
            return None  # an Office or OpenDocument file: refused as a workbook
        _one_member(name, "zip", members)
        try:
            return zf.read(members[0])
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError,
                EOFError, zlib.error, RuntimeError) as exc:
            raise CandidatesError(
                f"{name}: the file is a zip archive whose file {members[0]!r} cannot be "
                f"read ({exc}). Extract the CSV file from it and pass that file.") from None


def _untar(data: bytes, name: str) -> bytes:
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            members = [m for m in tf.getmembers() if m.isfile()]
            _one_member(name, "tar", [m.name for m in members])
            fh = tf.extractfile(members[0])
            return fh.read() if fh is not None else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise CandidatesError(
            f"{name}: the file is a tar archive that cannot be read ({exc}). Extract the CSV "
            "file from it and pass that file.") from None


def _decode(data: bytes, name: str, encoding: str | None) -> str:
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigError(f"encoding={encoding!r} is not a known text encoding. "
                              "Expected e.g. 'utf-8', 'cp1252' or 'latin-1'.") from None
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise CandidatesError(
                f"{name}, line {_line_of(data, exc.start)}: the bytes "
                f"{data[exc.start:exc.end]!r} cannot be decoded as {encoding}. Pass the "
                "file's real encoding (e.g. encoding='cp1252', command line --encoding "
                "cp1252), or leave encoding out to let peermatch detect it.") from None
        return _check_text(text.removeprefix("\ufeff"), name)

    for bom, enc in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                     (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return _check_text(data.decode(enc), name)
            except UnicodeDecodeError as exc:
                raise CandidatesError(
                    f"{name}: the file starts with a {enc.upper()} byte order mark but "
                    f"cannot be decoded as {enc.upper()} ({exc.reason}). Save it again as "
                    "CSV UTF-8.") from None
    if b"\x00" in data:
        nul_line = _line_of(data, data.index(b"\x00"))
        raise CandidatesError(
            f"{name}, line {nul_line}: the file contains NUL "
            "bytes, so it is not a text CSV file (or it is UTF-16 without a byte order "
            "mark). Export the table as CSV UTF-8.")
    try:
        return _check_text(data.decode("utf-8-sig"), name)
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        bad = data[exc.start:exc.end]
    for enc, label in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1 (ISO-8859-1)")):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        # stacklevel: _decode < read_text < read_candidates < the caller's caller
        warnings.warn(
            f"{name}: the file is not valid UTF-8 (line {line} has the byte {bad!r}), so it "
            f"was read as {label}. Check accented letters, e.g. in names; to silence this, "
            f"save the file as CSV UTF-8 or pass encoding={enc!r} (command line: --encoding "
            f"{enc}).", DataWarning, stacklevel=5)
        return _check_text(text, name)
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _check_text(text: str, name: str) -> str:
    if not text.strip():
        raise CandidatesError(
            f"{name}: the file holds only blank lines. Expected a header line naming the "
            "columns (at least 'id', 'industry' and 'employees' or 'revenue') and one row "
            "per candidate below it.")
    return text


# --------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------

def _reader(text: str, sep: str, strict: bool):
    return csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"',
                      doublequote=True, skipinitialspace=True, strict=strict)


def _is_blank(fields: list[str]) -> bool:
    return not fields[0].strip() and all(not f.strip() for f in fields)


def _sniff(text: str) -> str:
    """The most plausible delimiter among :data:`_SNIFF_DELIMITERS` (``","`` if unsure).

    The header must split into at least two fields; among such delimiters the one
    under which most of the first rows have as many fields as the header wins, then
    the one giving the most header fields, then the earlier one in the list.
    """
    sample = text[:65536]
    best, best_score = ",", None
    for d in _SNIFF_DELIMITERS:
        recs: list[list[str]] = []
        try:
            for fields in _reader(sample, d, strict=False):
                if fields and not _is_blank(fields):
                    recs.append(fields)
                if len(recs) >= 30:
                    break
        except csv.Error:
            pass
        if not recs or len(recs[0]) < 2:
            continue
        h = len(recs[0])
        body = recs[1:]
        consistency = sum(len(r) == h for r in body) / len(body) if body else 1.0
        score = (consistency, h)
        if best_score is None or score > best_score:
            best, best_score = d, score
    return best


def split_sep_hint(text: str) -> tuple[str, str | None]:
    """``(text, sep)``: Excel's first line ``sep=X`` blanked out, and ``X`` (or None).

    The line is replaced by an empty one, so line numbers stay those of the file.

    >>> split_sep_hint("sep=;\\nid;industry\\n")
    ('\\nid;industry\\n', ';')
    >>> split_sep_hint("id,industry\\n")
    ('id,industry\\n', None)
    """
    m = _SEP_HINT_RE.match(text)
    if m is None or not _usable_sep(m.group(1)):
        return text, None
    return m.group(2) + text[m.end():], m.group(1)


@contextmanager
def _cell_limit(limit: int):
    """Let the csv module read cells up to ``limit`` characters, for this block only."""
    with _CELL_LIMIT_LOCK:
        old = csv.field_size_limit(limit)
        try:
            yield
        finally:
            csv.field_size_limit(old)


def _records(text: str, name: str, sep: str) -> list[tuple[int, list[str]]]:
    """``(first line, fields)`` of each non-blank record of ``text``."""
    sep_name = SEP_NAMES.get(sep, repr(sep))
    records: list[tuple[int, list[str]]] = []
    reader = _reader(text, sep, strict=True)
    prev = 0
    try:
        with _cell_limit(MAX_CELL_CHARS):
            for fields in reader:
                start, prev = prev + 1, reader.line_num
                if fields and not _is_blank(fields):
                    records.append((start, fields))
    except csv.Error as exc:
        start = prev + 1
        msg = str(exc)
        if "unexpected end of data" in msg:
            raise CandidatesError(
                f"{name}, line {start}: a quoted value opened on this line is never closed "
                "(a '\"' is missing), so the rest of the file would run into one cell. Close "
                f"the quote or remove the stray '\"'. {_QUOTE_HINT}") from None
        if "expected after" in msg:
            raise CandidatesError(
                f"{name}, line {reader.line_num}: a quoted value is followed by other "
                f"characters before the next separator ({sep_name}). Expected the separator "
                f"right after the closing '\"'. {_QUOTE_HINT}") from None
        if "field limit" in msg:
            raise CandidatesError(
                f"{name}, line {start}: a cell of the row starting here is longer than "
                f"{MAX_CELL_CHARS:,} characters, the most peermatch reads in one cell. If a "
                "'\"' opened on this line is never closed, close it; otherwise keep such "
                "long texts out of the candidates file (e.g. in a file joined by id).") \
                from None
        raise CandidatesError(f"{name}, line {start}: the row cannot be read as CSV ({msg}). "
                              f"{_QUOTE_HINT}") from None
    if not records:
        raise CandidatesError(
            f"{name}: the file holds only blank lines and separators. Expected a header "
            "line naming the columns (at least 'id', 'industry' and 'employees' or "
            "'revenue') and one row per candidate below it.")
    return records


def _header(raw_header: list[str], name: str, line: int, sep: str) -> list[str]:
    header = [h.strip() for h in raw_header]
    header = [h if h else f"Unnamed: {j}" for j, h in enumerate(header)]
    if len(header) == 1:
        others = [d for d in _SNIFF_DELIMITERS if d != sep and d in header[0]]
        if others:
            d = others[0]
            arg = "'\\t'" if d == "\t" else repr(d)
            raise CandidatesError(
                f"{name}, line {line}: the header splits into one single column "
                f"{header[0]!r} with the delimiter {SEP_NAMES.get(sep, repr(sep))}, but it "
                f"contains {SEP_NAMES[d]} characters. The file is probably "
                f"{SEP_NAMES[d]}-delimited; pass sep={arg} (command line: --sep {arg}).")
    dups = sorted({h for h in header if header.count(h) > 1})
    if dups:
        raise CandidatesError(
            f"{name}, line {line}: duplicate column names {dups}. Expected each column "
            "name once; rename or delete the repeated column(s).")
    return header


def _check_widths(body, n_fields: int, name: str, header_line: int, sep: str) -> None:
    """Raise for every row whose number of fields differs from the header's."""
    sep_name = SEP_NAMES.get(sep, repr(sep))
    problems = []
    for line, fields in body:
        if len(fields) == n_fields:
            continue
        head = (f"{name}, line {line}: expected {n_fields} fields (as in the header on line "
                f"{header_line}), saw {len(fields)}.")
        if len(fields) > n_fields:
            if _is_blank(fields[n_fields:]):
                fix = (f"The extra fields are empty: remove the trailing {sep_name} "
                       "separators.")
            else:
                fix = (f"A value probably contains an unquoted {sep_name}: enclose it in "
                       "double quotes (e.g. \"Acme, Inc.\"), or remove the extra separator.")
        else:
            fix = ("Cells are missing or the row was cut; add the missing separators (empty "
                   "cells are fine) so that no value lands in the wrong column.")
        problems.append(("rows with a wrong number of fields", f"{head} {fix}"))
    raise_problems(name, problems)


def parse_csv_text(text: str, name: str, sep: str | None = None,
                   ) -> tuple[pd.DataFrame, np.ndarray, int, str]:
    """Parse CSV text into cells, every cell a string.

    The delimiter is ``sep``, else the one named by an Excel hint line ``sep=X`` at
    the top, else detected from the header and the first rows. Blank lines (also
    lines of separators only) are skipped; line numbers are those of the file.

    Parameters
    ----------
    text : str
        The file's text (see :func:`read_text`).
    name : str
        The file's name, for messages.
    sep : str, optional
        The delimiter, one character (see :func:`check_sep`).

    Returns
    -------
    frame : pandas.DataFrame
        The rows under the header, cells as read (``dtype=str``).
    lines : ndarray of int64
        The line each row starts on.
    header_line : int
        The line of the header.
    sep : str
        The delimiter used.

    Raises
    ------
    CandidatesError
        For bad quoting, a cell longer than :data:`MAX_CELL_CHARS`, a missing or
        repeated header, no data rows, or rows with a wrong number of fields.

    Examples
    --------
    >>> frame, lines, header_line, sep = parse_csv_text("sep=;\\nid;x\\n\\n1;a\\n", "f.csv")
    >>> frame.to_dict("list"), lines.tolist(), header_line, sep
    ({'id': ['1'], 'x': ['a']}, [4], 2, ';')
    """
    text, hinted = split_sep_hint(text)
    if sep is None:
        sep = hinted or _sniff(text)
    records = _records(text, name, sep)
    header_line, raw_header = records[0]
    header = _header(raw_header, name, header_line, sep)
    body = records[1:]
    if not body:
        raise CandidatesError(
            f"{name}: the file has a header (line {header_line}) but no data rows. Expected "
            "one row per candidate below the header; add the candidates or check that this "
            "is the right file.")
    _check_widths(body, len(header), name, header_line, sep)
    frame = pd.DataFrame([f for _, f in body], columns=header, dtype=str)
    lines = np.array([line for line, _ in body], dtype=np.int64)
    return frame, lines, header_line, sep


def raise_problems(name: str, problems: list[tuple[str, str]]) -> None:
    """Raise one CandidatesError listing ``problems`` (``(kind, message)``), if any.

    The first :data:`MAX_LISTED` of each kind are spelled out; every message is also
    in the exception's ``problems`` attribute.
    """
    if not problems:
        return
    messages = [m for _, m in problems]
    if len(problems) == 1:
        err = CandidatesError(messages[0])
    else:
        kinds: dict[str, list[str]] = {}
        for kind, msg in problems:
            kinds.setdefault(kind, []).append(msg)
        parts = [f"{name}: {len(problems)} problems in the candidates table; fix them and "
                 "try again."]
        for kind, msgs in kinds.items():
            shown = msgs[:MAX_LISTED]
            more = (f", the first {len(shown)} shown" if len(msgs) > len(shown) else "")
            parts.append(f"{kind} ({len(msgs)}{more}):")
            parts += [f"  - {m}" for m in shown]
            if len(msgs) > len(shown):
                parts.append(f"  ... and {len(msgs) - len(shown)} more {kind}.")
        err = CandidatesError("\n".join(parts))
    err.problems = messages
    raise err
