"""Every code block of README.md and docs/*.md runs as written.

How each fenced block is run (one test per page; a page's blocks run in order and share
one working directory and one Python namespace, as a reader's terminal and interpreter
would):

* ``python`` with ``>>>`` prompts: a doctest (ELLIPSIS, NORMALIZE_WHITESPACE); without
  prompts: executed as a script.
* ``bash``: run by ``bash -e -o pipefail`` in an *emulated checkout*: a temporary copy
  of this repository (``peermatch/`` itself is a link, so the compiled-kernel cache is
  shared) whose ``.venv/bin`` holds ``peermatch`` and ``python`` shims that run this
  tree's code (``python -m peermatch``) with the interpreter running the tests.
  ``source .venv/bin/activate`` puts them on ``PATH``; no other ``peermatch`` is on it,
  as in a fresh shell. Exported variables and the current folder carry over to
  the page's next ``bash`` block. ``make demo`` runs the real Makefile recipe (once per
  test session; a later page's ``make demo`` gets the same output and files);
  ``make test``, ``make notebook`` and ``make bench`` are checked with ``make -n`` (the
  suite is what is running; the others start a server or take hours).
* ``toml``: parsed, and loaded with :func:`peermatch.config.load_config` when it holds
  job tables (``[match]``, ``[columns]``, ``[weights]``, ``[rules]``).
* ``text``: not code. With ``<!-- docs-test: output -->`` on the line before it, it is
  the output of the page's previous ``bash`` block: its lines must appear, in order and
  together, in what that block printed, where a number with decimals (a score, a time)
  matches any such number and ``note:`` lines of the program (first-run notes about
  compiling) are skipped. Quoted phrases in the marker name other machine-dependent
  parts: ``<!-- docs-test: output, machine-dependent: "42 groups" -->`` lets the 42 be
  any number; the page should say why it varies.

A block that is deliberately not runnable (a signature, an example that needs your own
files) carries ``<!-- docs-test: skip REASON -->`` on the line before it. Every block
needs a language; README and getting-started blocks may not be skipped.

Afterwards the emulated checkout may hold nothing new but ``out/``, which .gitignore
names: examples leave no stray files in a checkout; and nothing in the repository itself
may have changed.
"""

from __future__ import annotations

import doctest
import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MUST_RUN = {"README.md", "getting-started.md"}
LANGS = {"python", "bash", "toml", "text"}
OUTPUT_DIR = "out"
#: Files of the repository that another test writes on purpose, maybe while a page runs
#: on another worker: the workbench's screenshots (tests/test_app_browser.py).
WRITTEN_BY_TESTS = os.path.join("docs", "img", "app-*.png")
#: Entries of the repository that the emulated checkout leaves out.
NOT_COPIED = {".git", ".venv", OUTPUT_DIR, "build", "dist", ".pytest_cache", ".ruff_cache",
              ".hypothesis", "__pycache__", ".gl"}
#: Linked instead of copied: the package (its kernel cache lives beside the code).
LINKED = {"peermatch"}
BLOCK_TIMEOUT = 300

_FENCE = re.compile(r"^(\s*)```(.*)$")
_MARK = re.compile(r"^\s*<!--\s*docs-test:\s*(\w+)\s*(.*?)\s*-->\s*$")
_DECIMAL = re.compile(r"\d[\d,]*\.\d+")


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    mark: str | None = None  # "skip" or "output"
    note: str = ""

    @property
    def where(self) -> str:
        page = self.page.relative_to(ROOT) if self.page.is_relative_to(ROOT) else self.page
        return f"{page}:{self.line}"


def blocks_of(page: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, with the docs-test marker before each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    out, k = [], 0
    while k < len(lines):
        m = _FENCE.match(lines[k])
        if not m:
            k += 1
            continue
        indent, info = m.group(1), m.group(2).strip()
        j = k + 1
        while j < len(lines) and not re.match(rf"^{indent}```\s*$", lines[j]):
            j += 1
        body = "\n".join(x[len(indent):] if x.startswith(indent) else x
                         for x in lines[k + 1:j]) + "\n"
        prev = lines[k - 1] if k else ""
        mark = _MARK.match(prev)
        out.append(Block(page, k + 1, info.split()[0] if info else "", body,
                         mark.group(1) if mark else None, mark.group(2) if mark else ""))
        k = j + 1
    return out


# --------------------------------------------------------------------------------------
# The emulated checkout


def _clean_path() -> str:
    """PATH without any folder holding a ``peermatch`` command: a fresh shell's PATH."""
    keep = [d for d in os.environ.get("PATH", "").split(os.pathsep)
            if d and not os.path.exists(os.path.join(d, "peermatch"))]
    return os.pathsep.join(keep)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(mtime, size) of every file of the repository but caches, outputs and the venv."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in NOT_COPIED and not d.endswith(
            ".egg-info")]
        for f in filenames:
            rel = os.path.relpath(os.path.join(dirpath, f), root)
            if fnmatch.fnmatch(rel, WRITTEN_BY_TESTS):
                continue
            st = os.stat(os.path.join(dirpath, f))
            out[rel] = (st.st_mtime_ns, st.st_size)
    return out


def make_checkout(where: Path) -> Path:
    co = where / "checkout"
    co.mkdir()
    skip = shutil.ignore_patterns(*NOT_COPIED, "*.egg-info")
    for entry in ROOT.iterdir():
        if entry.name in NOT_COPIED or entry.name.endswith(".egg-info"):
            continue
        if entry.name in LINKED:
            (co / entry.name).symlink_to(entry)
        elif entry.is_dir():
            shutil.copytree(entry, co / entry.name, ignore=skip, symlinks=True)
        else:
            shutil.copy2(entry, co / entry.name)
    bin_ = co / ".venv" / "bin"
    bin_.mkdir(parents=True)
    py = shlex.quote(sys.executable)
    for name, line in (("peermatch", f'exec {py} -m peermatch "$@"'),
                       ("python", f'exec {py} "$@"'), ("python3", f'exec {py} "$@"')):
        (bin_ / name).write_text(f"#!/bin/sh\n{line}\n")
        (bin_ / name).chmod(0o755)
    (bin_ / "activate").write_text(
        f'export VIRTUAL_ENV={shlex.quote(str(co / ".venv"))}\n'
        f'export PATH="$VIRTUAL_ENV/bin:$PATH"\n'
        'deactivate() { export PATH="${PATH#"$VIRTUAL_ENV/bin:"}"; unset VIRTUAL_ENV; }\n')
    # `make` sees the environment as installed (the stamp newer than pyproject.toml).
    (co / ".venv" / ".installed").touch()
    return co


_PRELUDE = r"""
[ -f "$DOCS_TEST_STATE" ] && . "$DOCS_TEST_STATE"
__docs_save() { { export -p; printf 'cd %q\n' "$PWD"; } > "$DOCS_TEST_STATE"; }
trap __docs_save EXIT
make() {
  case "$*" in
    demo)
      if [ -f "$DOCS_TEST_DEMO/stdout" ]; then
        mkdir -p out && cp "$DOCS_TEST_DEMO"/out/* out/ && cat "$DOCS_TEST_DEMO/stdout"
      else
        command make --no-print-directory -s demo > "$DOCS_TEST_DEMO/stdout.part"
        cat "$DOCS_TEST_DEMO/stdout.part"
        mkdir -p "$DOCS_TEST_DEMO/out" && cp out/* "$DOCS_TEST_DEMO/out/"
        mv "$DOCS_TEST_DEMO/stdout.part" "$DOCS_TEST_DEMO/stdout"
      fi ;;
    test|notebook|bench)
      command make --no-print-directory -n "$@" > /dev/null
      echo "(docs test: 'make $*' checked with make -n, not run)" ;;
    *) echo "docs test: no rule for 'make $*'" >&2; return 2 ;;
  esac
}
"""


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("demo")


# --------------------------------------------------------------------------------------
# Running blocks


def _doctest_flags() -> int:
    return doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def run_python(block: Block, ns: dict) -> None:
    if re.search(r"^\s*>>> ", block.text, flags=re.M):
        test = doctest.DocTestParser().get_doctest(block.text, ns, block.where,
                                                   str(block.page), block.line)
        runner = doctest.DocTestRunner(optionflags=_doctest_flags())
        report: list[str] = []
        runner.run(test, out=report.append, clear_globs=False)
        ns.update(test.globs)  # the DocTest ran on a copy: later blocks see its names
        if runner.failures:
            pytest.fail(f"{block.where}: doctest failed\n" + "".join(report), pytrace=False)
    else:
        try:
            exec(compile(block.text, block.where, "exec"), ns)
        except Exception as exc:  # report where the block failed
            import traceback

            pytest.fail(f"{block.where}: the python block raised\n"
                        + "".join(traceback.format_exception(exc)), pytrace=False)


def run_bash(block: Block, co: Path, env: dict) -> str:
    proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", _PRELUDE + block.text],
                          cwd=co, env=env, capture_output=True, text=True,
                          timeout=BLOCK_TIMEOUT)
    if proc.returncode != 0:
        pytest.fail(f"{block.where}: the bash block exited {proc.returncode}\n"
                    f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}", pytrace=False)
    return proc.stdout


def run_toml(block: Block, co: Path) -> None:
    try:
        data = tomllib.loads(block.text)
    except tomllib.TOMLDecodeError as exc:
        pytest.fail(f"{block.where}: not valid TOML: {exc}", pytrace=False)
    if {"match", "columns", "weights", "rules"} & set(data):
        from peermatch.config import load_config

        path = co.parent / "block.toml"
        path.write_text(block.text, encoding="utf-8")
        load_config(path)


def output_pattern(line: str, varying: Sequence[str] = ()) -> re.Pattern:
    """A line of shown output as a pattern: numbers with decimals match any such number,
    and so do the integers inside the ``varying`` phrases (e.g. ``"42 groups"``)."""
    number, token = r"\d[\d,]*(?:\.\d+)?", "\x00"
    line = line.strip()
    for phrase in varying:
        line = line.replace(phrase, re.sub(r"\d+", token, phrase))
    parts = _DECIMAL.split(line)
    return re.compile(r"\d[\d,]*\.\d+".join(
        re.escape(p).replace(token, number) for p in parts) + r"\Z")


def check_output(block: Block, printed: str | None) -> None:
    if printed is None:
        pytest.fail(f"{block.where}: an output block with no bash block before it",
                    pytrace=False)
    varying = re.findall(r'"([^"]+)"', block.note)
    for phrase in varying:
        assert phrase in block.text, f"{block.where}: {phrase!r} is not in the block"
    want = [output_pattern(x, varying) for x in block.text.splitlines() if x.strip()]
    got = [x.strip() for x in printed.splitlines() if x.strip() and not x.startswith("note:")]
    for start in range(len(got) - len(want) + 1):
        if all(p.match(g) for p, g in zip(want, got[start:start + len(want)], strict=True)):
            return
    pytest.fail(f"{block.where}: the page shows output the command does not print.\n"
                f"--- the page\n{block.text}--- printed\n{printed}", pytrace=False)


def run_page(page: Path, tmp_path: Path, demo: Path, monkeypatch) -> list[Block]:
    blocks = blocks_of(page)
    before = snapshot(ROOT)
    co = make_checkout(tmp_path)
    entries = {p.name for p in co.iterdir()}
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PATH=_clean_path(), PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        DOCS_TEST_STATE=str(tmp_path / "shell-state"), DOCS_TEST_DEMO=str(demo),
        MPLBACKEND="Agg")
    monkeypatch.chdir(co)
    ns: dict = {"__name__": "__main__"}
    printed = None
    for b in blocks:
        if b.lang not in LANGS:
            pytest.fail(f"{b.where}: a block needs a language among {sorted(LANGS)}, got "
                        f"{b.lang!r} (use text for output and other non-code)", pytrace=False)
        if b.mark == "skip":
            assert b.note, f"{b.where}: say why the block is skipped"
            assert page.name not in MUST_RUN, f"{b.where}: {page.name} blocks must run"
            continue
        if b.mark not in (None, "output"):
            pytest.fail(f"{b.where}: unknown docs-test marker {b.mark!r}", pytrace=False)
        if b.lang == "python":
            run_python(b, ns)
        elif b.lang == "bash":
            printed = run_bash(b, co, env)
        elif b.lang == "toml":
            run_toml(b, co)
        elif b.mark == "output":
            check_output(b, printed)
    extra = sorted({p.name for p in co.iterdir()} - entries - {OUTPUT_DIR})
    assert extra == [], f"{page.name}: examples left {extra} outside {OUTPUT_DIR}/"
    after = snapshot(ROOT)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert changed == [], f"{page.name}: examples changed files of the repository: {changed}"
    return blocks


# --------------------------------------------------------------------------------------
# Tests


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_block_of_the_page_runs(page, tmp_path, demo_cache, monkeypatch):
    if "make " in page.read_text(encoding="utf-8") and shutil.which("make") is None:
        pytest.skip("make is not installed")
    run_page(page, tmp_path, demo_cache, monkeypatch)


def test_gitignore_names_the_output_folder():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert f"{OUTPUT_DIR}/" in ignored


def test_getting_started_states_the_demo_recipe():
    """The page spells out the command `make demo` runs, as the Makefile has it."""
    text = (ROOT / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", text, flags=re.M).group(1)
    cmd = next(x for x in recipe.splitlines() if "peermatch match" in x)
    cmd = " ".join(cmd.replace("$(BIN)/", "").split())
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    page = " ".join(page.replace("\\\n", " ").split())
    assert cmd in page, cmd


def test_the_demo_output_is_the_same_on_both_pages():
    def shown(page):
        outputs, last_bash = [], ""
        for b in blocks_of(page):
            if b.lang == "bash":
                last_bash = b.text
            elif b.mark == "output" and "make demo" in last_bash:
                outputs.append(b.text)
        assert len(outputs) == 1, page
        return outputs[0]

    assert shown(ROOT / "README.md") == shown(ROOT / "docs" / "getting-started.md")


def test_block_parser_and_output_matching(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("x\n<!-- docs-test: skip needs your own file -->\n```python\nboom()\n```\n"
                    "```bash\necho hi\n```\n<!-- docs-test: output -->\n```text\nscore 1.5\n"
                    "```\n  ```text\n  indented\n  ```\n", encoding="utf-8")
    bs = blocks_of(page)
    assert [(b.lang, b.mark, b.line) for b in bs] == [
        ("python", "skip", 3), ("bash", None, 6), ("text", "output", 10), ("text", None, 13)]
    assert bs[0].note == "needs your own file" and bs[3].text == "indented\n"
    assert output_pattern("score 3,283.11; worst 0.907 (sizes 8-12)").match(
        "score 3,101.02; worst 0.826 (sizes 8-12)")
    assert not output_pattern("sizes 8-12").match("sizes 11-12")
    assert not output_pattern("500 -> 42 groups").match("500 -> 43 groups")
    assert output_pattern("500 -> 42 groups", ["42 groups"]).match("500 -> 43 groups")
    assert not output_pattern("500 -> 42 groups", ["42 groups"]).match("501 -> 43 groups")
    check_output(bs[2], "note: compiling\nscore 2.25\n")
    with pytest.raises(pytest.fail.Exception):
        check_output(bs[2], "score 2\n")
