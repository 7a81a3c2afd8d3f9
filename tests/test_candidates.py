"""Tests of peermatch.candidates: reading and validating candidate tables."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import math
import tarfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peermatch.candidates import CANONICAL_COLUMNS, CandidateTable, read_candidates, text_key
from peermatch.errors import CandidatesError, ConfigError, DataWarning

BAD = Path(__file__).parent / "data" / "bad"

GOOD = (
    "id,name,industry,employees,revenue,goals,expertise,region,availability,conflicts,"
    "tier,group,notes\n"
    "007,Ana Adams,541511,12,,growth; hiring ;,pricing,Northeast,Mon AM;Tue PM,042,CEO,,"
    "keep 0012\n"
    "042,Ben Baker,Retail,,2.5e6,,,  West ,Mon AM,007; 100,Owner,G1,NA\n"
    "100,\"Chen, Inc\",Software,1 200,300000,leadership,growth;hiring,,,,,G1,\n"
)


def write(tmp_path: Path, text: str | bytes, name: str = "candidates.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.encode("utf-8"))
    return path


def error_of(source, **kwargs) -> str:
    with pytest.raises(CandidatesError) as info:
        read_candidates(source, **kwargs)
    exc = info.value
    assert isinstance(exc, ValueError)
    # No pandas/csv traceback is chained to the error.
    assert exc.__cause__ is None
    assert exc.__suppress_context__ or exc.__context__ is None
    return str(exc)


def n_data_rows(text: str) -> int:
    """Rows of ``text`` (a comma CSV) that hold data, counted with the csv module."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return sum(1 for r in rows[1:] if any(c.strip() for c in r))


# --------------------------------------------------------------------------------------
# Good input
# --------------------------------------------------------------------------------------

def test_good_file_round_trip(tmp_path):
    path = write(tmp_path, GOOD)
    t = read_candidates(path)
    assert isinstance(t, CandidateTable)
    assert t.source == str(path)
    assert len(t) == t.n == 3 == n_data_rows(GOOD)
    assert t.ids.tolist() == ["007", "042", "100"]
    assert t.ids.dtype == object
    assert t.industry.tolist() == ["541511", "Retail", "Software"]
    np.testing.assert_array_equal(t.employees, [12.0, np.nan, 1200.0])
    np.testing.assert_array_equal(t.revenue, [np.nan, 2.5e6, 3e5])
    assert t.goals == [["growth", "hiring"], [], ["leadership"]]
    assert t.expertise == [["pricing"], [], ["growth", "hiring"]]
    assert t.availability == [["Mon AM", "Tue PM"], ["Mon AM"], []]
    assert t.conflicts == [["042"], ["007", "100"], []]
    assert t.region.tolist() == ["Northeast", "West", ""]
    assert t.tier.tolist() == ["CEO", "Owner", ""]
    assert t.group.tolist() == ["", "G1", "G1"]
    assert t.lines.tolist() == [2, 3, 4]
    assert t.columns == {c: c for c in CANONICAL_COLUMNS}
    # The frame is the table as read: strings, "" for empty, nothing converted.
    assert list(t.frame.columns) == [*CANONICAL_COLUMNS, "notes"]
    assert t.frame.index.tolist() == [0, 1, 2]
    assert t.frame["id"].tolist() == ["007", "042", "100"]
    assert t.frame["notes"].tolist() == ["keep 0012", "NA", ""]
    assert t.frame["employees"].tolist() == ["12", "", "1 200"]
    assert t.frame["name"].tolist()[2] == "Chen, Inc"
    assert not t.frame.isna().any().any()


def test_optional_columns_absent(tmp_path):
    t = read_candidates(write(tmp_path, "id,industry,revenue\na,X,10\nb,Y,20\n"))
    assert t.region is None and t.tier is None and t.group is None
    assert t.goals == [[], []] and t.conflicts == [[], []]
    assert np.isnan(t.employees).all()
    assert t.revenue.tolist() == [10.0, 20.0]
    assert set(t.columns) == {"id", "industry", "revenue"}


def test_subset_keeps_contract(tmp_path):
    t = read_candidates(write(tmp_path, GOOD))
    s = t.subset(np.array([1, 0]))
    assert s.ids.tolist() == ["042", "007"]
    assert s.conflicts == [["007"], ["042"]]


def test_case_insensitive_headers_and_whitespace(tmp_path):
    text = "  ID ,NAME, Industry ,Employees,Goals\n x1 , Ana , Retail , 5 , a ;b\n"
    t = read_candidates(write(tmp_path, text))
    assert t.columns == {"id": "ID", "name": "NAME", "industry": "Industry",
                         "employees": "Employees", "goals": "Goals"}
    assert t.ids.tolist() == ["x1"]
    assert t.industry.tolist() == ["Retail"]
    assert t.employees.tolist() == [5.0]
    assert t.goals == [["a", "b"]]


def test_column_mapping(tmp_path):
    text = "Member,Sector,Headcount,industry\nm1,Retail,10,ignored\nm2,Software,20,\n"
    t = read_candidates(write(tmp_path, text),
                        columns={"id": "member", "industry": "Sector", "employees": "Headcount"})
    assert t.columns == {"id": "Member", "industry": "Sector", "employees": "Headcount"}
    assert t.industry.tolist() == ["Retail", "Software"]
    assert t.employees.tolist() == [10.0, 20.0]
    # The literal 'industry' column passes through untouched.
    assert t.frame["industry"].tolist() == ["ignored", ""]


def test_column_mapping_errors(tmp_path):
    path = write(tmp_path, "id,Sector,employees\n1,Retail,3\n")
    msg = error_of(path, columns={"industry": "Sectr"})
    assert "'Sectr'" in msg and "Did you mean 'Sector'?" in msg and "line 1" in msg
    with pytest.raises(ConfigError, match="'sector'"):
        read_candidates(path, columns={"sector": "Sector"})
    with pytest.raises(ConfigError, match="both"):
        read_candidates(path, columns={"industry": "Sector", "region": "sector"})


def test_pass_through_columns_untouched(tmp_path):
    text = "id,industry,employees,Zip,Score\n1,X,1,01234,1e3\n2,Y,2,,NaN\n"
    t = read_candidates(write(tmp_path, text))
    assert t.frame["Zip"].tolist() == ["01234", ""]
    assert t.frame["Score"].tolist() == ["1e3", "NaN"]
    assert "Zip" not in t.columns.values()


def test_bom_crlf_blank_lines(tmp_path):
    text = "\ufeffid,industry,employees\r\n1,X,3\r\n\r\n2,Y,4\r\n,,\r\n  \r\n\r\n"
    t = read_candidates(write(tmp_path, text))
    assert t.columns["id"] == "id"
    assert t.ids.tolist() == ["1", "2"]
    assert t.lines.tolist() == [2, 4]
    assert len(t.frame) == 2


def test_multiline_quoted_fields_keep_line_numbers(tmp_path):
    text = ('id,name,industry,employees\n1,"Ana\nAdams\nJr",X,3\n2,Ben,Y,4\n'
            '3,Cleo,Z,abc\n')
    path = write(tmp_path, text)
    msg = error_of(path)
    assert "line 6, column 'employees'" in msg
    t = read_candidates(write(tmp_path, text.replace("abc", "5"), "ok.csv"))
    assert t.lines.tolist() == [2, 5, 6]
    assert t.frame["name"].tolist()[0] == "Ana\nAdams\nJr"


def test_leading_zeros_and_codes_kept(tmp_path):
    t = read_candidates(write(tmp_path, "id,industry,employees\n0001,011110,0\n0002,0,1\n"))
    assert t.ids.tolist() == ["0001", "0002"]
    assert t.industry.tolist() == ["011110", "0"]
    assert t.employees.tolist() == [0.0, 1.0]


@pytest.mark.parametrize("cell, value", [
    ("1200", 1200.0), ("1 200", 1200.0), ("1_200", 1200.0), ("12.5", 12.5),
    ("2.5e3", 2500.0), ("+3", 3.0), (".5", 0.5), ("1\u00a0000", 1000.0), ("0", 0.0),
])
def test_size_formats_accepted(tmp_path, cell, value):
    t = read_candidates(write(tmp_path, f'id,industry,employees\n1,X,"{cell}"\n'))
    assert t.employees.tolist() == [value]


# --------------------------------------------------------------------------------------
# Files that cannot be read
# --------------------------------------------------------------------------------------

def test_missing_file(tmp_path):
    msg = error_of(str(tmp_path / "nope.csv"))
    assert "nope.csv" in msg and "not found" in msg


def test_directory(tmp_path):
    msg = error_of(tmp_path)
    assert str(tmp_path) in msg and "folder" in msg


def test_empty_file(tmp_path):
    msg = error_of(BAD / "empty.csv")
    assert "empty.csv" in msg and "empty (0 bytes)" in msg and "header" in msg


def test_whitespace_only_file(tmp_path):
    msg = error_of(write(tmp_path, " \n\r\n\t\n"))
    assert "candidates.csv" in msg and "blank" in msg


def test_header_only(tmp_path):
    msg = error_of(BAD / "header_only.csv")
    assert "header_only.csv" in msg and "no data rows" in msg and "line 1" in msg


def test_excel_workbook(tmp_path):
    msg = error_of(write(tmp_path, b"PK\x03\x04rest of a zip", "table.csv"))
    assert "table.csv" in msg and "Excel" in msg and "CSV" in msg


def test_binary_file(tmp_path):
    msg = error_of(write(tmp_path, b"id,industry\n\x00\x01\x02\n"))
    assert "line 2" in msg and "NUL" in msg


def test_utf16_with_bom(tmp_path):
    path = write(tmp_path, "id\tindustry\temployees\n1\tZürich AG\t3\n".encode("utf-16"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = read_candidates(path)
    assert t.industry.tolist() == ["Zürich AG"]


def test_wrong_source_type():
    with pytest.raises(TypeError, match="DataFrame"):
        read_candidates(42)


# --------------------------------------------------------------------------------------
# Missing columns
# --------------------------------------------------------------------------------------

def test_missing_industry_column():
    msg = error_of(BAD / "missing_industry.csv")
    assert msg.startswith(f"{BAD / 'missing_industry.csv'}, line 1:")
    assert "expected but not found: ['industry']" in msg
    assert "['ID', 'Name', 'Sector', 'Employees']" in msg
    assert "columns={'industry'" in msg and "--column industry=" in msg


def test_missing_id_column_with_typo_hint(tmp_path):
    msg = error_of(write(tmp_path, "ident,Industy,employees\n1,X,3\n"))
    assert "expected but not found: ['id', 'industry']" in msg
    assert "Did you mean 'Industy' for 'industry'?" in msg
    assert "Columns found: ['ident', 'Industy', 'employees']" in msg


def test_missing_size_columns(tmp_path):
    msg = error_of(write(tmp_path, "id,industry,size\n1,X,3\n"))
    assert "'employees' or 'revenue'" in msg and "['id', 'industry', 'size']" in msg


def test_ambiguous_columns(tmp_path):
    msg = error_of(write(tmp_path, "id,ID,industry,employees\n1,2,X,3\n"))
    assert "['id', 'ID']" in msg and "columns={'id'" in msg


def test_duplicate_header_names(tmp_path):
    msg = error_of(write(tmp_path, "id,industry,employees,x,x\n1,X,3,a,b\n"))
    assert "line 1" in msg and "duplicate column names ['x']" in msg


# --------------------------------------------------------------------------------------
# Bad cells
# --------------------------------------------------------------------------------------

def test_duplicate_ids():
    msg = error_of(BAD / "duplicate_ids.csv")
    assert "2 problems" in msg and "duplicate ids (2)" in msg
    assert "column 'id': id 'A1' appears 2 times, on lines 2, 4" in msg
    assert "id 'A2' appears 2 times, on lines 3, 6" in msg


def test_duplicate_ids_after_trimming(tmp_path):
    msg = error_of(write(tmp_path, "id,industry,employees\na,X,1\n a ,Y,2\n"))
    assert "id 'a' appears 2 times, on lines 2, 3" in msg


def test_empty_id_and_industry(tmp_path):
    text = "id,industry,employees\n1,X,1\n  ,Y,2\n3, ,3\n"
    msg = error_of(write(tmp_path, text))
    assert "candidates.csv, line 3, column 'id': the id is empty" in msg
    assert "candidates.csv, line 4, column 'industry': the industry is empty" in msg
    assert "2 problems" in msg


def test_size_errors_exact_message(tmp_path):
    path = write(tmp_path, "id,industry,employees,revenue\n1,X,3,\n2,Y,abc,\n")
    msg = error_of(path)
    assert msg == (
        f"{path}, line 3, column 'employees': value 'abc' is not a number. Expected a "
        "non-negative number of employees; fix the cell or leave it empty if 'revenue' is "
        "given.")


def test_size_errors_both_columns():
    msg = error_of(BAD / "bad_sizes.csv")
    assert "3 problems" in msg
    assert "line 2, column 'employees': value 'abc' is not a number" in msg
    assert "line 3, column 'employees': value '-5' is negative" in msg
    assert "line 4, columns 'employees' and 'revenue': both are empty" in msg
    assert "line 5" not in msg


def test_size_invalid_even_if_other_is_valid(tmp_path):
    msg = error_of(write(tmp_path, "id,industry,employees,revenue\n1,X,12,$5\n"))
    assert "line 2, column 'revenue': value '$5' is not a plain number" in msg


@pytest.mark.parametrize("cell, why", [
    ("abc", "is not a number"), ("-3", "is negative"), ("1,200", "is not a plain number"),
    ("", "is missing"), ("nan", "is not a number"), ("inf", "is not a number"),
    ("12 people", "is not a number"), ("1e999", "too large"),
])
def test_size_errors_single_column(tmp_path, cell, why):
    path = write(tmp_path, f'id,industry,Headcount\n1,X,5\n2,Y,"{cell}"\n')
    msg = error_of(path, columns={"employees": "Headcount"})
    assert "candidates.csv, line 3, column 'Headcount' (employees)" in msg
    assert why in msg
    if cell:
        assert repr(cell) in msg
    assert "non-negative number of employees" in msg


def test_conflict_errors():
    msg = error_of(BAD / "bad_conflicts.csv")
    assert "line 3, column 'conflicts': id '9' is not in the table" in msg
    assert "line 4, column 'conflicts': candidate '3' lists itself" in msg


def test_conflict_case_hint(tmp_path):
    msg = error_of(write(tmp_path, "id,industry,employees,conflicts\nAb,X,1,\ncd,Y,2,ab\n"))
    assert "id 'ab' is not in the table (did you mean 'Ab'?)" in msg


def test_many_problems_capped(tmp_path):
    rows = "".join(f"{i},X,bad{i}\n" for i in range(25))
    msg = error_of(write(tmp_path, "id,industry,employees\n" + rows))
    assert "25 problems" in msg
    assert "company size problems (25, the first 10 shown)" in msg
    assert "and 15 more company size problems" in msg
    assert "'bad9'" in msg and "'bad10'" not in msg
    with pytest.raises(CandidatesError) as info:
        read_candidates(tmp_path / "candidates.csv")
    assert len(info.value.problems) == 25


# --------------------------------------------------------------------------------------
# Ragged rows and quoting
# --------------------------------------------------------------------------------------

def test_ragged_rows():
    msg = error_of(BAD / "ragged.csv")
    assert "line 5: expected 7 fields (as in the header on line 1), saw 8" in msg
    assert "unquoted comma" in msg
    # The good row with a quoted comma on line 4 is not flagged.
    assert "line 4" not in msg


def test_short_rows_are_reported(tmp_path):
    text = "id,industry,employees,region\n1,X,3,North\n2,Y\n3,Z,4\n4,W,5,South\n"
    msg = error_of(write(tmp_path, text))
    assert "2 problems" in msg
    assert "line 3: expected 4 fields (as in the header on line 1), saw 2" in msg
    assert "line 4: expected 4 fields (as in the header on line 1), saw 3" in msg


def test_trailing_empty_fields(tmp_path):
    msg = error_of(write(tmp_path, "id,industry,employees\n1,X,3,,\n"))
    assert "line 2: expected 3 fields" in msg and "saw 5" in msg and "trailing" in msg


def test_unclosed_quote(tmp_path):
    text = 'id,industry,employees\n1,X,3\n2,"Y,4\n3,Z,5\n'
    msg = error_of(write(tmp_path, text))
    assert "candidates.csv, line 3" in msg and "never closed" in msg


def test_text_after_closing_quote(tmp_path):
    msg = error_of(write(tmp_path, 'id,industry,employees\n1,"X" Corp,3\n'))
    assert "candidates.csv, line 2" in msg and "closing" in msg


def test_space_before_quoted_value(tmp_path):
    t = read_candidates(write(tmp_path, 'id, industry, employees\n1, "Acme, Inc", 3\n'))
    assert t.industry.tolist() == ["Acme, Inc"]


# --------------------------------------------------------------------------------------
# Encodings
# --------------------------------------------------------------------------------------

def test_cp1252_file_read_with_warning():
    with pytest.warns(DataWarning, match="Windows-1252") as rec:
        t = read_candidates(BAD / "cp1252.csv")
    text = str(rec[0].message)
    assert "cp1252.csv" in text and "line 2" in text and "encoding='cp1252'" in text
    assert t.region.tolist() == ["Zürich", "Genève"]
    assert t.frame["name"].tolist() == ["Jürg Müller", "Françoise"]


def test_cp1252_specials(tmp_path):
    data = "id,industry,employees,name\n1,X,3,caf\xe9 \u20ac \u2019\n".encode("cp1252")
    with pytest.warns(DataWarning, match="Windows-1252"):
        t = read_candidates(write(tmp_path, data))
    assert t.frame["name"].tolist() == ["caf\xe9 \u20ac \u2019"]


def test_latin1_fallback(tmp_path):
    data = b"id,industry,employees\n1,X,3\n2,Y\x81\xe9,4\n"
    with pytest.warns(DataWarning, match="Latin-1") as rec:
        t = read_candidates(write(tmp_path, data))
    assert "line 3" in str(rec[0].message)
    assert t.industry.tolist() == ["X", "Y\x81\xe9"]


def test_explicit_encoding(tmp_path):
    data = "id,industry,employees\n1,Zürich,3\n".encode("cp1252")
    path = write(tmp_path, data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = read_candidates(path, encoding="cp1252")
    assert t.industry.tolist() == ["Zürich"]
    msg = error_of(path, encoding="utf-8")
    assert "candidates.csv, line 2" in msg and "utf-8" in msg and "encoding=" in msg
    with pytest.raises(ConfigError, match="not a known"):
        read_candidates(path, encoding="no-such-codec")


def test_utf8_no_warning(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = read_candidates(write(tmp_path, "id,industry,employees\n1,Zürich,3\n"))
    assert t.industry.tolist() == ["Zürich"]


# --------------------------------------------------------------------------------------
# Delimiters
# --------------------------------------------------------------------------------------

def test_semicolon_file():
    t = read_candidates(BAD / "semicolon.csv")
    assert len(t) == 2
    assert t.industry.tolist() == ["Software", "Retail"]
    assert t.goals == [["growth", "hiring"], ["pricing", "sales process"]]


def test_semicolon_file_with_commas_in_values(tmp_path):
    text = "id;name;industry;employees;conflicts\n1;Acme, Inc;X;1,5e1;2\n2;B;Y;3;1|\n"
    msg = error_of(write(tmp_path, text))
    # Decimal commas are rejected, not silently misread.
    assert "line 2, column 'employees': value '1,5e1'" in msg
    t = read_candidates(write(tmp_path, text.replace("1,5e1", "15"), "ok.csv"))
    assert t.frame["name"].tolist() == ["Acme, Inc", "B"]
    assert t.conflicts == [["2"], ["1"]]


def test_tab_file(tmp_path):
    t = read_candidates(write(tmp_path, "id\tindustry\temployees\tgoals\n1\tA, B\t3\tx;y\n"))
    assert t.industry.tolist() == ["A, B"]
    assert t.goals == [["x", "y"]]


@pytest.mark.parametrize("sep", [";", "\t", "\\t", "tab", "|"])
def test_explicit_sep(tmp_path, sep):
    real = {"\\t": "\t", "tab": "\t"}.get(sep, sep)
    text = real.join(["id", "industry", "employees"]) + "\n" + real.join(["1", "X", "3"]) + "\n"
    t = read_candidates(write(tmp_path, text), sep=sep)
    assert t.ids.tolist() == ["1"]


def test_wrong_explicit_sep(tmp_path):
    path = write(tmp_path, "id;industry;employees\n1;X;3\n")
    msg = error_of(path, sep=",")
    assert "line 1" in msg and "sep=';'" in msg and "--sep ';'" in msg
    with pytest.raises(ConfigError, match="single character"):
        read_candidates(path, sep=",,")


# --------------------------------------------------------------------------------------
# DataFrames
# --------------------------------------------------------------------------------------

def test_dataframe_conversion():
    df = pd.DataFrame({
        "id": [1, 2, 3],
        "industry": ["X", "Y", "Z"],
        "employees": [12.0, np.nan, 2.5],
        "revenue": [None, 1e6, pd.NA],
        "goals": [["a", " b "], "c;d", None],
        "flag": [True, False, True],
    }, index=[10, 20, 30])
    t = read_candidates(df)
    assert t.source == "<DataFrame>"
    assert t.ids.tolist() == ["1", "2", "3"]
    assert t.frame["employees"].tolist() == ["12", "", "2.5"]
    assert t.frame["revenue"].tolist() == ["", "1000000", ""]
    assert t.frame["flag"].tolist() == ["True", "False", "True"]
    assert t.frame.index.tolist() == [0, 1, 2]
    np.testing.assert_array_equal(t.employees, [12.0, np.nan, 2.5])
    np.testing.assert_array_equal(t.revenue, [np.nan, 1e6, np.nan])
    assert t.goals == [["a", "b"], ["c", "d"], []]
    assert t.lines.tolist() == [2, 3, 4]
    # The caller's DataFrame is not modified.
    assert df["employees"].iloc[0] == 12.0


def test_dataframe_errors():
    df = pd.DataFrame([["a", "X", "1", "2"]], columns=["id", "industry", "x", "x"])
    assert "duplicate column names ['x']" in error_of(df)
    msg = error_of(pd.DataFrame({"id": ["a", "b"], "industry": ["X", "Y"],
                                 "employees": ["1", "oops"]}))
    assert "<DataFrame>, line 3 (row 1), column 'employees': value 'oops'" in msg
    assert "row" in error_of(pd.DataFrame({"id": [], "industry": [], "employees": []}))
    indexed = pd.DataFrame({"industry": ["X"], "employees": [1]},
                           index=pd.Index(["a"], name="id"))
    assert "reset_index" in error_of(indexed)
    with pytest.raises(ConfigError):
        read_candidates(pd.DataFrame({"id": ["a"]}), sep=";")


# --------------------------------------------------------------------------------------
# No silent data loss, on every accepted example
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    GOOD,
    "id,industry,employees\n1,X,3\n\n\n",
    'id,name,industry,employees\n1,"a\n\nb",X,3\n2,c,Y,4\n',
    "id,industry,employees,notes\n1,X,3,\n2,Y,4,\"\"\n",
])
def test_row_count_matches_input(tmp_path, text):
    t = read_candidates(write(tmp_path, text))
    assert len(t) == len(t.frame) == n_data_rows(text)


# --------------------------------------------------------------------------------------
# Property test: random valid tables parse back to their raw values
# --------------------------------------------------------------------------------------

_ID_CHARS = "abcXYZ019-_.#' \"é"
_TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="\ufeff")
    | st.sampled_from([",", ";", "|", '"', " ", "\n", "\t"]),
    max_size=8,
)
_TOKEN = st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc"),
                                        exclude_characters=";|,\ufeff"), max_size=6)


def _size_text(value: float | None, style: int) -> str:
    if value is None:
        return ""
    if style == 0:
        return repr(float(value))
    if style == 1:
        return f"{value:_.0f}"
    if style == 2:
        return f" {value:,.0f} ".replace(",", " ")
    return f"{value:e}"


@st.composite
def tables(draw):
    n = draw(st.integers(1, 6))
    ids = draw(st.lists(st.text(alphabet=_ID_CHARS, min_size=1, max_size=5)
                        .filter(lambda s: s.strip()),
                        min_size=n, max_size=n, unique_by=lambda s: s.strip()))
    delim = draw(st.sampled_from([",", ";", "\t"]))
    list_sep = "|" if delim == ";" else ";"
    size_cols = draw(st.sampled_from([("employees",), ("revenue",), ("employees", "revenue")]))
    rows = []
    for i in range(n):
        row = {"id": ids[i], "name": draw(_TEXT),
               "industry": draw(_TEXT.filter(lambda s: s.strip()))}
        need = draw(st.sampled_from(size_cols))
        for c in size_cols:
            value = draw(st.floats(0, 1e9, allow_nan=False) if c == need
                         else st.none() | st.floats(0, 1e9, allow_nan=False))
            if value is not None and draw(st.booleans()):
                value = float(round(value))
            row[c] = _size_text(value, draw(st.integers(0, 3)))
        for c in ("goals", "availability"):
            toks = draw(st.lists(_TOKEN, max_size=3))
            row[c] = list_sep.join(f" {t} " if draw(st.booleans()) else t for t in toks)
        others = [x.strip() for j, x in enumerate(ids) if j != i]
        row["conflicts"] = list_sep.join(draw(st.lists(st.sampled_from(others), max_size=2))
                                         if others else [])
        row["region"] = draw(_TEXT)
        row["extra"] = draw(_TEXT)
        rows.append(row)
    quote_all = draw(st.booleans())
    terminator = draw(st.sampled_from(["\n", "\r\n"]))
    header = ["id", "name", "industry", *size_cols, "goals", "availability", "conflicts",
              "region", "extra"]
    return header, rows, delim, list_sep, quote_all, terminator


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_random_valid_tables(tmp_path_factory, table):
    header, rows, delim, list_sep, quote_all, terminator = table
    out = io.StringIO(newline="")
    kw = dict(delimiter=delim, lineterminator=terminator,
              quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer = csv.writer(out, **kw)
    writer.writerow(header)
    expected_lines = []
    line = 2
    for row in rows:
        expected_lines.append(line)
        one = io.StringIO(newline="")
        csv.writer(one, **kw).writerow([row[c] for c in header])
        line += one.getvalue().count("\n")
        writer.writerow([row[c] for c in header])
    path = tmp_path_factory.getbasetemp() / "random.csv"
    path.write_text(out.getvalue(), encoding="utf-8", newline="")

    t = read_candidates(path)
    assert len(t) == len(rows)
    assert t.lines.tolist() == expected_lines
    assert list(t.frame.columns) == header
    assert t.ids.tolist() == [r["id"].strip() for r in rows]
    # Keys compared across rows are trimmed and in Unicode NFC; the frame keeps the cells.
    assert t.industry.tolist() == [text_key(r["industry"]) for r in rows]
    assert t.region.tolist() == [text_key(r["region"]) for r in rows]
    for c in ("employees", "revenue"):
        got = getattr(t, c)
        if c not in header:
            assert np.isnan(got).all()
            continue
        for g, r in zip(got, rows, strict=True):
            raw = r[c].replace(" ", "").replace("_", "")
            if raw:
                assert math.isclose(g, float(raw), rel_tol=1e-12)
            else:
                assert np.isnan(g)
    for c in ("goals", "availability", "conflicts"):
        want = [[text_key(x) for x in r[c].split(list_sep) if x.strip()] for r in rows]
        assert getattr(t, c) == want
    for c in header:
        got = t.frame[c].tolist()
        want = [r[c] for r in rows]
        if quote_all:
            assert got == want
        else:  # unquoted leading spaces may be skipped
            assert [g.lstrip(" ") for g in got] == [w.lstrip(" ") for w in want]


# --------------------------------------------------------------------------------------
# Compressed files, Excel's sep= line, long cells, Unicode forms
# --------------------------------------------------------------------------------------

SMALL = "id,industry,employees\nA1,Software,12\nA2,Retail,40\n"


@pytest.mark.parametrize("name", ["cands.csv.gz", "cands.csv"])
def test_gzip_file_is_read_whatever_its_name(tmp_path, name):
    t = read_candidates(write(tmp_path, gzip.compress(SMALL.encode()), name))
    assert t.ids.tolist() == ["A1", "A2"] and t.lines.tolist() == [2, 3]
    assert t.source.endswith(name)


@pytest.mark.parametrize("pack", [bz2.compress, lzma.compress])
def test_bz2_and_xz_files_are_read(tmp_path, pack):
    t = read_candidates(write(tmp_path, pack(SMALL.encode()), "cands.csv.x"))
    assert t.industry.tolist() == ["Software", "Retail"]


def test_gzip_of_a_cp1252_file_warns_like_the_plain_file(tmp_path):
    data = gzip.compress("id,industry,employees\n1,Zürich,3\n".encode("cp1252"))
    with pytest.warns(DataWarning, match="Windows-1252"):
        t = read_candidates(write(tmp_path, data, "c.csv.gz"))
    assert t.industry.tolist() == ["Zürich"]


def test_zip_and_tar_archives_holding_one_csv(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("export/cands.csv", SMALL)
    assert len(read_candidates(write(tmp_path, buf.getvalue(), "c.zip"))) == 2
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("cands.csv")
        info.size = len(SMALL.encode())
        tf.addfile(info, io.BytesIO(SMALL.encode()))
    assert len(read_candidates(write(tmp_path, buf.getvalue(), "c.tar.gz"))) == 2


def test_compressed_file_problems_are_named(tmp_path):
    cut = gzip.compress(SMALL.encode() * 50)[:-20]
    msg = error_of(write(tmp_path, cut, "cut.csv.gz"))
    assert "cut.csv.gz" in msg and "gzip" in msg and "cut short or damaged" in msg
    assert "NUL" not in msg
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.csv", SMALL)
        zf.writestr("b.csv", SMALL)
    msg = error_of(write(tmp_path, buf.getvalue(), "two.zip"))
    assert "two.zip" in msg and "2 files ('a.csv', 'b.csv')" in msg and "extract" in msg
    msg = error_of(write(tmp_path, b"\x28\xb5\x2f\xfd" + b"\x00" * 20, "c.csv.zst"))
    assert "Zstandard" in msg and "zstd -d" in msg
    msg = error_of(write(tmp_path, gzip.compress(b""), "empty.csv.gz"))
    assert "empty.csv.gz" in msg and "empty file" in msg


def test_gzip_errors_in_the_rows_name_the_line(tmp_path):
    text = "id,industry,employees\nA1,Software,12\nA2,Retail,lots\n"
    msg = error_of(write(tmp_path, gzip.compress(text.encode()), "c.csv.gz"))
    assert "c.csv.gz, line 3, column 'employees': value 'lots' is not a number" in msg


@pytest.mark.parametrize("hint", ["sep=;", "SEP=;", '"sep=;"', "sep=;;;", "\ufeffsep=;"])
def test_excel_sep_line_sets_the_delimiter(tmp_path, hint):
    text = f"{hint}\r\nid;name;industry;employees;goals\r\n1;Acme, Inc;X;5;a,b\r\n2;B;Y;z;\r\n"
    msg = error_of(write(tmp_path, text))
    # One problem, on the line of the file (the sep= line is line 1).
    assert "line 4, column 'employees': value 'z'" in msg
    assert "wrong number of fields" not in msg
    t = read_candidates(write(tmp_path, text.replace(";z;", ";7;"), "ok.csv"))
    assert t.frame["name"].tolist() == ["Acme, Inc", "B"]
    assert t.goals == [["a", "b"], []] and t.lines.tolist() == [3, 4]


def test_excel_sep_line_for_commas_and_tabs(tmp_path):
    t = read_candidates(write(tmp_path, "sep=,\nid,industry,employees\n1,X;Y,3\n"))
    assert t.industry.tolist() == ["X;Y"] and list(t.frame.columns) == [
        "id", "industry", "employees"]
    t = read_candidates(write(tmp_path, "sep=\t\nid\tindustry\temployees\n1\tX,Y\t3\n"))
    assert t.industry.tolist() == ["X,Y"]


def test_a_header_that_only_looks_like_a_hint_is_a_header(tmp_path):
    # "sep=x" names no usable delimiter: it is a column name like any other.
    msg = error_of(write(tmp_path, "sepa\n1\n"))
    assert "required columns" in msg
    msg = error_of(write(tmp_path, "sep=;\n"))
    assert "only blank lines and separators" in msg


def test_file_of_separators_only(tmp_path):
    msg = error_of(write(tmp_path, ",,,\n\n , ,\n"))
    assert "candidates.csv" in msg and "only blank lines and separators" in msg


def test_long_quoted_cell_is_read(tmp_path):
    notes = ("Call notes, with commas; quotes \"\" and\nline breaks. " * 6000)[:320_000]
    text = f'id,industry,employees,notes\n1,X,3,"{notes}"\n2,Y,4,short\n'
    t = read_candidates(write(tmp_path, text))
    assert len(t.frame["notes"][0]) > 300_000
    assert t.frame["notes"][0] == notes.replace('""', '"')
    assert t.lines.tolist() == [2, 2 + notes.count("\n") + 1]
    assert csv.field_size_limit() == 131072  # the process-wide limit is left as it was


def test_overlong_cell_is_refused_with_its_line(tmp_path, monkeypatch):
    # The bound is 16 Mi characters; a smaller one keeps the test fast.
    import peermatch._csvfile as csvfile

    monkeypatch.setattr(csvfile, "MAX_CELL_CHARS", 1000)
    text = "id,industry,employees,notes\n1,X,3,ok\n2,Y,4,\"" + "n" * 2000 + "\"\n"
    msg = error_of(write(tmp_path, text))
    assert "candidates.csv, line 3" in msg and "longer than 1,000 characters" in msg
    assert "never closed" in msg


NFC, NFD = "Caf\u00e9 Supply", "Cafe\u0301 Supply"


def test_text_keys_are_compared_in_nfc(tmp_path):
    text = ("id,industry,employees,region,tier,goals,conflicts,notes\n"
            f"Jos\u00e9,{NFC},3,Qu\u00e9bec,Pr\u00e9sident,{NFC},,{NFD}\n"
            f"B2,{NFD},4,Que\u0301bec,Pre\u0301sident,{NFD}; x,Jose\u0301,{NFD}\n")
    t = read_candidates(write(tmp_path, text))
    assert t.industry.tolist() == [NFC, NFC]
    assert t.region[0] == t.region[1] and t.tier[0] == t.tier[1]
    assert t.goals == [[NFC], [NFC, "x"]]
    # A conflict names the id as the table spells it.
    assert t.conflicts == [[], ["Jos\u00e9"]]
    # The frame keeps every cell as read: the output passes them through.
    assert t.frame["industry"].tolist() == [NFC, NFD]
    assert t.frame["notes"].tolist() == [NFD, NFD]
    assert t.frame["region"][1] == "Que\u0301bec"


def test_ids_in_two_unicode_forms_are_one_id(tmp_path):
    text = "id,industry,employees\nJos\u00e9,X,3\nJose\u0301,Y,4\n"
    msg = error_of(write(tmp_path, text))
    assert "appears 2 times (written in different Unicode forms" in msg
    assert "lines 2, 3" in msg


def test_competitors_in_two_unicode_forms_are_one_class():
    from peermatch.rules import Rules, competitor_classes

    df = pd.DataFrame({"id": ["a", "b", "c"], "industry": [NFC, NFD, "Other"],
                       "employees": ["1", "2", "3"]})
    classes, _, _ = competitor_classes(read_candidates(df), Rules(competitors=("industry",)))
    assert [sorted(c.tolist()) for c in classes] == [[0, 1]]


def test_column_mapping_matches_headers_in_either_form(tmp_path):
    text = "id,Secteur d'activite\u0301,employees\n1,X,3\n"
    t = read_candidates(write(tmp_path, text), columns={"industry": "Secteur d'activit\u00e9"})
    assert t.industry.tolist() == ["X"]


def test_text_that_happens_to_spell_ustar_is_not_a_tar_archive(tmp_path):
    head = "id,industry,employees,notes\n1,X,3,"
    text = head + "n" * (257 - len(head)) + "ustard\n"
    assert text.encode()[257:262] == b"ustar"
    t = read_candidates(write(tmp_path, text))
    assert t.frame["notes"][0].endswith("ustard")
