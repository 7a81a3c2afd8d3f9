"""The chair's workbench in a real browser: headless Chromium driven by Playwright.

The server runs as ``peermatch app`` runs it (uvicorn on 127.0.0.1, the token in the
address); the page is used as a chair uses it: open a bad file (the problems table),
open a good one, set the sizes, run, drag a member so that a rule breaks (the page warns
and refuses), make a legal move, lock two groups, re-optimise the others, and download
the groups CSV, which the independent validator (tests/validator.py) checks. The
screenshots of docs/app.md are taken on the way.

Chromium comes from the operating system (Debian's ``chromium`` package), since
Playwright's own browser downloads are not always possible. Without it, or without
Playwright, the test skips and says how to install them.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from tests.validator import violations

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "docs" / "img"
N, LO, HI = 40, 5, 7
TOKEN = "browser-test-token"
#: Chromium flags for a headless run on a machine with no display, no GPU and no network.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
HOW = ("get Chromium with 'apt install chromium' (Debian/Ubuntu; or set "
       "PEERMATCH_CHROMIUM to a Chromium binary) and Playwright with 'pip install playwright'")


def _chromium() -> str | None:
    given = os.environ.get("PEERMATCH_CHROMIUM")
    if given:
        return given if Path(given).is_file() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name) or (f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file()
                                       else None)
        if found:
            return found
    return None


pytest.importorskip("starlette", reason="the workbench needs the app extra: "
                    "pip install 'peermatch[app]'")
sync_api = pytest.importorskip("playwright.sync_api",
                               reason=f"the browser test needs Playwright and Chromium: {HOW}")
if _chromium() is None:
    pytest.skip(f"the browser test needs Chromium, which was not found: {HOW}",
                allow_module_level=True)


def _candidates() -> pd.DataFrame:
    from peermatch.datasets import synth_candidates

    df = synth_candidates(N, seed=5)
    # member text is escaped everywhere: neither of these may run
    df.loc[0, "name"] = "<script>alert('name')</script>"
    df.loc[1, "name"] = "<img src=x onerror=alert('img')>"
    return df


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The workbench served by uvicorn on a free port of 127.0.0.1, as ``peermatch app``."""
    import uvicorn

    from peermatch.app.run import bind
    from peermatch.app.server import create_app
    from peermatch.app.workbench import Workbench

    folder = tmp_path_factory.mktemp("browser")
    wb = Workbench(folder / "state.sqlite3")
    sock = bind(0)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(wb, token=TOKEN, port=port),
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started
    yield {"wb": wb, "port": port, "folder": folder}
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def page(live):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        # the page's Content-Security-Policy stays on (it forbids eval too): the test
        # waits on selectors, not on evaluated JavaScript
        context = browser.new_context(viewport={"width": 1400, "height": 1000},
                                      accept_downloads=True)
        pg = context.new_page()
        pg.set_default_timeout(30_000)
        dialogs: list[str] = []
        pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        pg.dialogs = dialogs
        errors: list[str] = []  # errors of the page's script (CSP refusals included)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" and
              "Failed to load resource" not in m.text else None)
        pg.errors = errors
        yield pg
        context.close()
        browser.close()


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    # the top of the page at the first viewport size (the drags may have made it taller)
    page.screenshot(path=str(SHOTS / f"app-{name}.png"),
                    clip={"x": 0, "y": 0, "width": 1400, "height": 1000})


def _sid(page) -> str:
    return page.get_attribute("body", "data-sid")


def _start(page, live, button: str) -> float:
    """Click ``button`` (Run, Re-optimise) and wait until the server holds the run it
    started: a click returns before its request arrives, and a wait begun earlier would
    see the previous run as the last one. Returns the run's start time."""
    wb, sid = live["wb"], _sid(page)
    clicked = time.time()
    page.click(button)
    deadline = clicked + 30
    while (wb.jobs.status(sid) or {}).get("started", 0.0) < clicked:
        assert time.time() < deadline, f"{button} started no run"
        time.sleep(0.05)
    return wb.jobs.status(sid)["started"]


def _wait_idle(page, live) -> dict:
    """Wait for the run of the page's session to end; the page shows its message."""
    wb, sid = live["wb"], _sid(page)
    job = wb.jobs.wait(sid, timeout=120)
    assert job["state"] != "running", job
    page.wait_for_selector("body:not(.running)", state="attached")
    return job


def _drag(page, member: str, group: str) -> str:
    """Drag ``member`` onto the card of ``group`` with the mouse; the check shown.

    The viewport holds the whole page: a drag that scrolls between the press and the
    first move would start on whichever member is under the pointer then."""
    height = page.evaluate("() => document.documentElement.scrollHeight")
    if height > page.viewport_size["height"]:
        page.set_viewport_size({"width": page.viewport_size["width"], "height": height + 50})
    page.drag_and_drop(f'li.member[data-id="{member}"] small',
                       f'article.card[data-group="{group}"] h3')
    page.wait_for_selector("#pending:not([hidden])")
    text = page.inner_text("#pending-text")
    assert f"({member})" in text.split("\n")[0 if "Refused" not in text else 2], text
    return text


def test_without_the_token_the_page_is_refused(page, live):
    r = page.goto(f"http://127.0.0.1:{live['port']}/")
    assert r.status == 403
    assert "token" in page.inner_text("body")
    # the same server under another name (DNS rebinding): refused even with the token
    r = page.goto(f"http://localhost.:{live['port']}/?token={TOKEN}")
    assert r.status == 403


def test_a_chair_loads_runs_adjusts_locks_reoptimises_and_downloads(page, live, tmp_path):
    wb, port = live["wb"], live["port"]
    raw = _candidates()
    page.goto(f"http://127.0.0.1:{port}/?token={TOKEN}")
    assert page.url == f"http://127.0.0.1:{port}/"  # the token left the address
    _shot(page, "open")

    # a bad file: one row per problem, with line and column
    bad = tmp_path / "members-bad.csv"
    broken = raw.copy()
    broken.loc[3, "employees"] = "many"
    broken.loc[5, "employees"] = "-4"
    broken.to_csv(bad, index=False)
    page.set_input_files("#upload input[type=file]", str(bad))
    page.click("#upload button[type=submit]")
    page.wait_for_selector("#problems")
    cells = page.locator("#problems tbody tr").all_inner_texts()
    assert len(cells) == 2
    assert cells[0].split("\t")[:2] == ["5", "employees"]  # row 3 is line 5 (header: 1)
    _shot(page, "problems")

    # a good file: the session page
    good = tmp_path / "members.csv"
    raw.to_csv(good, index=False)
    page.set_input_files("#upload input[type=file]", str(good))
    page.click("#upload button[type=submit]")
    page.wait_for_selector("#settings")
    for key, value in {"min_size": LO, "max_size": HI, "time_limit": 4}.items():
        page.fill(f'#settings input[name="{key}"]', str(value))
    page.click("#settings button[type=submit]")
    sid = _sid(page)
    deadline = time.time() + 10
    while wb.store.session(sid)["settings"]["match"]["min_size"] != LO:
        assert time.time() < deadline, "the settings were not applied"
        time.sleep(0.05)

    # run: the progress bar, the live best score, the time left
    _start(page, live, "#run")
    page.wait_for_selector("#progress-text:has-text('s left')")
    time.sleep(1.5)
    _shot(page, "running")
    job = _wait_idle(page, live)
    assert job["state"] == "done", job
    page.wait_for_selector("article.card")
    ws = wb.workspace(sid)
    assert page.locator("article.card").count() == ws.result.n_groups
    assert page.dialogs == []  # no member's text ran as a script
    assert page.locator("button.who", has_text="<script>alert('name')</script>").count() == 1
    _shot(page, "review")

    # a drag that breaks a rule: the page shows the rule and refuses (no Confirm)
    G = ws.grouping
    moves = [(G.ids[i], G.names[g]) for i in range(len(G.ids)) for g in G.order
             if g != G.labels[i]]
    checks = {(m, g): ws.check_move(m, g) for m, g in moves}
    member, group = next(k for k, c in checks.items() if not c["ok"])
    text = _drag(page, member, group)
    assert "Refused" in text and checks[(member, group)]["breaks"][0] in text
    assert page.is_hidden("#confirm")
    _shot(page, "refused")
    page.click("#cancel")
    assert wb.workspace(sid).state.groups == ws.state.groups

    # a legal move: shown, confirmed, done
    member, group = next(k for k, c in checks.items() if c["ok"])
    text = _drag(page, member, group)
    assert "keeps every hard rule" in text and page.is_visible("#confirm")
    _shot(page, "move")
    page.click("#confirm")
    page.wait_for_selector(f'article.card[data-group="{group}"] li[data-id="{member}"]')
    moved = wb.workspace(sid)
    assert moved.state.groups[G.member(member)] == group
    assert "moved" in moved.state.action

    # explain a member
    page.click(f'button.who[data-id="{member}"]')
    page.wait_for_selector("#explain:not([hidden])")
    assert f"({member})" in page.inner_text("#explain-text")
    _shot(page, "explain")
    page.click("#explain-close")

    # a drop onto a member of another group: the swap's check
    G2 = moved.grouping
    a, b = G2.ids[0], next(G2.ids[j] for j in range(len(G2.ids))
                           if G2.labels[j] != G2.labels[0])
    page.drag_and_drop(f'li.member[data-id="{a}"] small', f'li.member[data-id="{b}"] small')
    page.wait_for_selector("#pending:not([hidden])")
    text = page.inner_text("#pending-text")
    assert f"({a})" in text and f"({b})" in text and "Swapping" in text, text
    assert page.is_visible("#confirm") == moved.check_swap(a, b)["ok"]
    page.click("#cancel")

    # a weight change re-scores the grouping shown at once
    score = page.inner_text("#score")
    page.fill('#settings input[name="diversity"]', "2")
    page.press('#settings input[name="diversity"]', "Tab")  # the change event
    page.wait_for_selector(f"#score:not(:has-text('{score}'))")
    assert wb.workspace(sid).state.groups == moved.state.groups  # same groups, new score
    assert page.inner_text("#score") == f"{wb.workspace(sid).result.score:,.3f}"

    # lock two groups, re-optimise the others
    locked = [G.names[g] for g in G.order[:2]]
    for name in locked:
        page.click(f'article.card[data-group="{name}"] button.lock')
        page.wait_for_selector(f'article.card.locked[data-group="{name}"]')
    before = wb.workspace(sid).state.groups
    kept = {n: [i for i, g in enumerate(before) if g == n] for n in locked}
    _start(page, live, "#reoptimise")
    job = _wait_idle(page, live)
    assert job["state"] == "done", job
    after = wb.workspace(sid).state.groups
    for n, rows in kept.items():
        assert [i for i, g in enumerate(after) if g == n] == rows
    page.wait_for_selector("article.card.locked")
    _shot(page, "locked")

    # undo and redo through the buttons
    page.click("#undo")
    page.wait_for_selector("#redo:enabled")
    assert wb.workspace(sid).state.groups == before
    page.click("#redo")
    page.wait_for_selector("#redo:disabled")
    assert wb.workspace(sid).state.groups == after

    # download the groups CSV and check it independently
    with page.expect_download() as info:
        page.click("#dl-groups")
    path = info.value.path()
    out = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert violations(raw, out, LO, HI) == []
    assert list(out["group"]) == after
    assert page.dialogs == [] and page.errors == []


def test_a_reload_during_a_run_shows_it_going_and_stop_keeps_the_best(page, live):
    wb = live["wb"]
    sid = _sid(page)
    page.fill('#settings input[name="time_limit"]', "60")
    page.click("#settings button[type=submit]")
    deadline = time.time() + 10
    while wb.store.session(sid)["settings"]["match"]["time_limit"] != 60:
        assert time.time() < deadline
        time.sleep(0.05)
    before = wb.store.history(sid)["last"]
    _start(page, live, "#run")
    page.wait_for_selector("body.running", state="attached")
    page.reload()
    page.wait_for_selector("body.running", state="attached")
    assert "Running: best score" in page.inner_text("#progress-text")
    assert page.is_enabled("#stop")
    while wb.jobs.status(sid)["best"] is None:
        time.sleep(0.1)
    page.click("#stop")
    job = _wait_idle(page, live)
    assert job["state"] == "stopped", job
    assert "(stopped: the best found)" in job["message"], job  # cut short by Stop
    assert "stopped" in page.inner_text("#progress-text")
    assert wb.store.history(sid)["last"] == before + 1  # the best grouping kept
    assert wb.workspace(sid).result.validate() == []


def test_two_tabs_on_one_session_see_the_same_state(page, live):
    wb, sid = live["wb"], _sid(page)
    other = page.context.new_page()
    try:
        other.goto(page.url)
        other.wait_for_selector("article.card")
        before = wb.store.current(sid).seq
        assert other.inner_text("#state-line") == f"Now: {wb.store.current(sid).action}"
        page.click("#undo")  # in the first tab
        deadline = time.time() + 10
        while wb.store.current(sid).seq == before:
            assert time.time() < deadline, "the undo did not reach the server"
            time.sleep(0.05)
        now = wb.store.current(sid).action
        # the second tab notices the new revision when it next polls, and redraws; the
        # first redraws when the undo's answer arrives, which may come after the server
        # has the new state
        other.wait_for_selector(f"#state-line:has-text('{now}')", timeout=10_000)
        page.wait_for_selector(f"#state-line:has-text('{now}')", timeout=10_000)
        assert other.inner_text("#state-line") == page.inner_text("#state-line")
    finally:
        other.close()
