"""The chair's workbench (``peermatch app``) through its HTTP interface.

Starlette's TestClient drives the real application (the security middleware included)
without a socket. Every grouping the server hands out is checked again by the
independent validator (tests/validator.py), and the state changes are compared with the
library's own functions called directly.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("starlette", reason="the workbench needs the app extra: "
                    "pip install 'peermatch[app]'")
pytest.importorskip("httpx", reason="Starlette's TestClient needs httpx: pip install httpx")

from starlette.testclient import TestClient  # noqa: E402

import peermatch as pm  # noqa: E402
from peermatch.app.server import create_app  # noqa: E402
from peermatch.app.workbench import Workbench  # noqa: E402
from peermatch.datasets import synth_candidates  # noqa: E402
from tests.validator import violations  # noqa: E402

PORT = 8799
TOKEN = "test-token-0123456789"
BASE = f"http://127.0.0.1:{PORT}"
AUTH = {"x-peermatch-token": TOKEN}
N, LO, HI = 48, 5, 7


def _candidates() -> pd.DataFrame:
    df = synth_candidates(N, seed=3)
    df.loc[0, "name"] = "<script>alert('x')</script>"  # must be shown as text, never run
    return df


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    return _candidates()


@pytest.fixture(scope="module")
def server(tmp_path_factory, raw):
    """A workbench on a fresh state file, a client with the token, one session of the
    candidates with a finished run."""
    path = tmp_path_factory.mktemp("app") / "state.sqlite3"
    wb = Workbench(path)
    client = TestClient(create_app(wb, token=TOKEN, port=PORT), base_url=BASE,
                        headers=AUTH, follow_redirects=False)
    up = client.post("/open", files={"file": ("members.csv", raw.to_csv(index=False))})
    assert up.status_code == 303, up.text
    sid = up.headers["location"].rsplit("/", 1)[1]
    r = client.post(f"/api/s/{sid}/settings", json={
        "min_size": str(LO), "max_size": str(HI), "time_limit": "3", "seed": "0"})
    assert r.status_code == 200, r.text
    assert client.post(f"/api/s/{sid}/run").status_code == 200
    job = wb.jobs.wait(sid, timeout=120)
    assert job["state"] == "done", job
    return {"wb": wb, "client": client, "sid": sid, "path": path}


def _groups(server) -> pd.DataFrame:
    r = server["client"].get(f"/s/{server['sid']}/download/groups.csv")
    assert r.status_code == 200, r.text
    return pd.read_csv(io.StringIO(r.text), dtype=str, keep_default_na=False)


def _labels(server) -> list[str]:
    return list(server["wb"].workspace(server["sid"]).state.groups)


def _check(server, member: str, group: str) -> dict:
    r = server["client"].post(f"/api/s/{server['sid']}/check-move",
                              json={"member": member, "group": group})
    assert r.status_code == 200, r.text
    return r.json()


def _moves(server):
    """Every move of a member to another group, with the check the server gives."""
    ws = server["wb"].workspace(server["sid"])
    G = ws.grouping
    for i in range(len(G.ids)):
        for g in G.order:
            if g != G.labels[i]:
                yield G.ids[i], G.names[g], ws.check_move(G.ids[i], G.names[g])


# -- security ------------------------------------------------------------------------------
def test_requests_without_the_token_are_refused(server):
    bare = TestClient(server["client"].app, base_url=BASE, follow_redirects=False)
    sid = server["sid"]
    for path in ("/", f"/s/{sid}", f"/api/s/{sid}/status", "/static/app.js",
                 f"/s/{sid}/download/groups.csv"):
        r = bare.get(path)
        assert r.status_code == 403, path
        assert "token" in r.text
    assert bare.get("/", headers={"x-peermatch-token": "wrong"}).status_code == 403
    wrong = TestClient(server["client"].app, base_url=BASE,
                       cookies={f"peermatch_token_{PORT}": "wrong"})
    assert wrong.get("/").status_code == 403
    assert bare.post(f"/api/s/{sid}/undo").status_code == 403


def test_the_token_in_the_address_becomes_a_cookie(server):
    bare = TestClient(server["client"].app, base_url=BASE, follow_redirects=False)
    r = bare.get(f"/s/{server['sid']}?token={TOKEN}")
    assert r.status_code == 303
    assert r.headers["location"] == f"/s/{server['sid']}"  # the token leaves the address
    cookie = r.headers["set-cookie"]
    assert f"peermatch_token_{PORT}={TOKEN}" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert bare.get(f"/s/{server['sid']}").status_code == 200  # the client kept the cookie
    other = TestClient(server["client"].app, base_url=BASE, follow_redirects=False)
    assert other.get(f"/?token={TOKEN}x").status_code == 403


@pytest.mark.parametrize("host", ["evil.example", f"evil.example:{PORT}", "127.0.0.1",
                                  f"127.0.0.1:{PORT + 1}", f"localhost.evil.example:{PORT}"])
def test_a_foreign_host_is_refused_even_with_the_token(server, host):
    # DNS rebinding: another site's name pointed at 127.0.0.1 sends its own Host
    r = server["client"].get("/", headers={"host": host})
    assert r.status_code == 403
    assert "Refused" in r.text
    r = server["client"].get(f"/?token={TOKEN}", headers={"host": host})
    assert r.status_code == 403


@pytest.mark.parametrize("headers", [
    {"origin": "http://evil.example"},
    {"origin": f"http://127.0.0.1:{PORT + 1}"},
    {"origin": "null"},
    {"sec-fetch-site": "cross-site"},
    {"sec-fetch-site": "same-site"},
])
def test_a_foreign_origin_is_refused_even_with_the_token(server, headers):
    before = _labels(server)
    r = server["client"].post(f"/api/s/{server['sid']}/undo", headers=headers)
    assert r.status_code == 403
    assert _labels(server) == before  # nothing happened


def test_own_origin_and_hosts_are_answered(server):
    for host in (f"127.0.0.1:{PORT}", f"localhost:{PORT}"):
        r = server["client"].get("/", headers={"host": host, "origin": f"http://{host}",
                                               "sec-fetch-site": "same-origin"})
        assert r.status_code == 200
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY"


def test_member_text_is_escaped_everywhere(server):
    client, sid = server["client"], server["sid"]
    page = client.get(f"/s/{sid}").text
    frag = client.get(f"/s/{sid}/grouping").text
    for html in (page, frag):
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    # the only script of the page is the package's own file
    assert page.count("<script") == 1 and '<script src="/static/app.js">' in page
    report = client.get(f"/s/{sid}/download/report.html").text
    assert "<script>alert" not in report
    explained = client.get(f"/api/s/{sid}/explain", params={"member": "M0001"}).json()
    assert "<script>alert('x')</script>" in explained["text"]  # JSON: the page sets it
    # as text (textContent), and the CSP forbids inline scripts anyway
    assert "script-src 'self'" in client.get(f"/s/{sid}").headers["content-security-policy"]


def _table_rows(html: str, table_id: str) -> list[list[str]]:
    """The cells of the table ``table_id`` of a page, row by row (header row first)."""
    from html.parser import HTMLParser

    rows: list[list[str]] = []
    inside = {"table": False, "cell": False}

    class Cells(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "table" and dict(attrs).get("id") == table_id:
                inside["table"] = True
            elif inside["table"] and tag == "tr":
                rows.append([])
            elif inside["table"] and tag in ("td", "th"):
                inside["cell"] = True
                rows[-1].append("")

        def handle_endtag(self, tag):
            if tag == "table":
                inside["table"] = False
            elif tag in ("td", "th"):
                inside["cell"] = False

        def handle_data(self, data):
            if inside["table"] and inside["cell"]:
                rows[-1][-1] += data.strip()

    Cells().feed(html)
    return rows


# -- load and check ------------------------------------------------------------------------
def test_a_bad_file_shows_one_row_per_problem_with_line_and_column(server, tmp_path):
    bad = "id,name,industry,employees,revenue\n1,Ana,Software,abc,\n2,Ben,Retail,-5,\n" \
          "3,Cleo,Legal,,\n"
    before = len(server["wb"].store.sessions())
    r = server["client"].post("/open", files={"file": ("bad.csv", bad)})
    assert r.status_code == 400
    with pytest.raises(pm.CandidatesError) as cli:  # what `peermatch validate` reports
        (tmp_path / "bad.csv").write_text(bad)
        pm.read_candidates(tmp_path / "bad.csv")
    rows = _table_rows(r.text, "problems")
    assert rows[0] == ["line", "column", "problem"]
    assert len(rows) - 1 == len(cli.value.problems) == 3
    assert [row[:2] for row in rows[1:]] == [["2", "employees"], ["3", "employees"],
                                             ["4", "employees and revenue"]]
    for row, problem in zip(rows[1:], cli.value.problems, strict=True):
        assert problem.endswith(row[2])  # the reader's own words, as the CLI prints them
    assert len(server["wb"].store.sessions()) == before  # a bad file makes no session


def test_a_column_mapping_opens_a_file_with_other_names(server, raw):
    renamed = raw.rename(columns={"industry": "Sector"})
    client = server["client"]
    r = client.post("/open", files={"file": ("sector.csv", renamed.to_csv(index=False))})
    assert r.status_code == 400 and "Sector" in r.text
    r = client.post("/open", files={"file": ("sector.csv", renamed.to_csv(index=False))},
                    data={"column_industry": "Sector"})
    assert r.status_code == 303
    sid = r.headers["location"].rsplit("/", 1)[1]
    ws = server["wb"].workspace(sid)
    assert list(ws.table.industry) == list(raw["industry"])


def test_bad_settings_are_refused_in_the_librarys_words(server):
    client, sid = server["client"], server["sid"]
    before = server["wb"].store.session(sid)["settings"]
    for form, words in [({"min_size": "9", "max_size": "4"}, "larger"),
                        ({"time_limit": "abc"}, "not a number"),
                        ({"caliber_scale": "-1"}, "caliber_scale"),
                        ({"competitors": "", "rules_toml": "max_per_group = ["}, "TOML")]:
        r = client.post(f"/api/s/{sid}/settings", json=form)
        assert r.status_code == 400, form
        assert words in r.json()["error"], r.json()
    assert server["wb"].store.session(sid)["settings"] == before


# -- run, review and adjust ----------------------------------------------------------------
def test_the_run_is_a_valid_grouping_of_match(server, raw):
    out = _groups(server)
    assert violations(raw, out, LO, HI) == []
    ws = server["wb"].workspace(server["sid"])
    assert ws.result.validate() == []
    page = server["client"].get(f"/s/{server['sid']}").text
    assert page.count('<article class="card') == ws.result.n_groups
    # the score shown is the report's score of the grouping, re-scored independently
    again = pm.report.from_grouping(out, weights=ws.weights, rules=ws.rules,
                                    min_size=LO, max_size=HI)
    assert again.score == pytest.approx(ws.result.score)


def test_a_move_that_breaks_a_rule_is_refused_and_changes_nothing(server):
    client, sid = server["client"], server["sid"]
    member, group, check = next((m, g, c) for m, g, c in _moves(server) if not c["ok"])
    assert _check(server, member, group) == check  # the check of `peermatch move`
    before, rev = _labels(server), server["wb"].store.revision(sid)
    r = client.post(f"/api/s/{sid}/move", json={"member": member, "group": group})
    assert r.status_code == 409
    assert r.json()["breaks"] == check["breaks"] and check["breaks"]
    assert _labels(server) == before and server["wb"].store.revision(sid) == rev


def test_a_legal_move_then_undo_and_redo(server, raw):
    client, sid = server["client"], server["sid"]
    member, group, check = next((m, g, c) for m, g, c in _moves(server) if c["ok"])
    before = _labels(server)
    seq = server["wb"].workspace(sid).state.seq
    r = client.post(f"/api/s/{sid}/move", json={"member": member, "group": group,
                                                "base": seq})
    assert r.status_code == 200 and r.json()["ok"]
    after = _labels(server)
    i = list(raw["id"]).index(member)
    assert after[i] == group and [a for k, a in enumerate(after) if k != i] == \
        [b for k, b in enumerate(before) if k != i]
    assert violations(raw, _groups(server), LO, HI) == []
    ws = server["wb"].workspace(sid)
    assert ws.result.score == pytest.approx(check["score_after"], abs=1e-5)
    # a change computed on an older grouping is refused (another tab moved meanwhile)
    stale = client.post(f"/api/s/{sid}/move", json={"member": member, "group": before[i],
                                                    "base": seq})
    assert stale.status_code == 409 and "changed meanwhile" in stale.json()["error"]
    assert client.post(f"/api/s/{sid}/undo").status_code == 200
    assert _labels(server) == before
    assert client.post(f"/api/s/{sid}/redo").status_code == 200
    assert _labels(server) == after
    assert client.post(f"/api/s/{sid}/redo").status_code == 409  # nothing left to redo


def test_a_swap_is_checked_as_two_moves_at_once(server):
    ws = server["wb"].workspace(server["sid"])
    G = ws.grouping
    a = G.ids[0]
    b = next(G.ids[j] for j in range(len(G.ids)) if G.labels[j] != G.labels[0])
    r = server["client"].post(f"/api/s/{server['sid']}/check-swap", json={"a": a, "b": b})
    out = r.json()
    i, j = G.member(a), G.member(b)
    lab = np.array(G.labels).copy()
    lab[i], lab[j] = lab[j], lab[i]
    assert out["ok"] == (not G.new_violations(lab))
    assert out["score_after"] == pytest.approx(G.score(lab), abs=1e-5)
    before = _labels(server)
    r = server["client"].post(f"/api/s/{server['sid']}/swap", json={"a": a, "b": b})
    after = _labels(server)
    if out["ok"]:
        assert r.status_code == 200
        swapped = list(before)
        swapped[i], swapped[j] = before[j], before[i]
        assert after == swapped
        assert server["client"].post(f"/api/s/{server['sid']}/undo").status_code == 200
        assert _labels(server) == before
    else:
        assert r.status_code == 409 and after == before


def test_a_weight_change_rescores_the_grouping_at_once(server, raw):
    client, sid = server["client"], server["sid"]
    labels = _labels(server)
    r = client.post(f"/api/s/{sid}/settings", json={"diversity": "2.5"})
    assert r.status_code == 200
    ws = server["wb"].workspace(sid)
    assert ws.state.groups == labels  # the grouping stays, only its score changes
    direct = pm.report.from_grouping(
        _groups(server), weights=pm.Weights.from_dict({**ws.settings["weights"]}),
        min_size=LO, max_size=HI)
    assert r.json()["score"] == pytest.approx(direct.score)
    back = client.post(f"/api/s/{sid}/settings", json={"diversity": "0.3"})
    assert back.json()["score"] != pytest.approx(r.json()["score"])


def test_lock_then_reoptimise_keeps_the_locked_groups(server, raw):
    client, sid, wb = server["client"], server["sid"], server["wb"]
    ws = wb.workspace(sid)
    names = [ws.grouping.names[g] for g in ws.grouping.order][:2]
    for name in names:
        r = client.post(f"/api/s/{sid}/lock", json={"group": name, "locked": True})
        assert r.status_code == 200 and name in r.json()["locked"]
    page = client.get(f"/s/{sid}/grouping").text
    assert page.count('class="card locked') == 2
    before = _labels(server)
    kept = {name: sorted(i for i, g in enumerate(before) if g == name) for name in names}
    # a move out of a locked group breaks the lock rule: refused
    out_of_lock = raw["id"][kept[names[0]][0]]
    other = next(g for g in set(before) if g not in names)
    r = client.post(f"/api/s/{sid}/move", json={"member": out_of_lock, "group": other})
    # (the locked-groups rule: the member may not join another group, and the locked
    # group's size is fixed)
    assert r.status_code == 409
    assert any("may not join" in b and f"locked group {names[0]}" in b
               for b in r.json()["breaks"]), r.json()["text"]
    assert client.post(f"/api/s/{sid}/reoptimise").status_code == 200
    job = wb.jobs.wait(sid, timeout=120)
    assert job["state"] == "done", job
    after = _labels(server)
    for name, rows in kept.items():
        assert sorted(i for i, g in enumerate(after) if g == name) == rows
    assert sorted(wb.workspace(sid).state.locked) == sorted(names)
    assert violations(raw, _groups(server), LO, HI) == []
    # the grouping before the re-optimisation is one undo away
    assert client.post(f"/api/s/{sid}/undo").status_code == 200
    assert _labels(server) == before
    assert client.post(f"/api/s/{sid}/redo").status_code == 200


def test_downloads_are_the_commands_files(server, raw):
    client, sid = server["client"], server["sid"]
    ws = server["wb"].workspace(sid)
    out = _groups(server)
    assert list(out.columns[:len(raw.columns)]) == list(raw.columns)
    assert violations(raw, out, LO, HI) == []
    pairs = client.get(f"/s/{sid}/download/pairs.csv")
    assert pairs.status_code == 200
    assert "attachment" in pairs.headers["content-disposition"]
    got = pd.read_csv(io.StringIO(pairs.text), dtype=str, keep_default_na=False)
    direct = pm.accountability_pairs(out, weights=ws.weights).frame  # `peermatch pairs`
    for col in ("group", "member_1", "member_2", "member_3"):
        assert got[col].tolist() == direct[col].astype(str).tolist()
    # every member is in exactly one pair (or trio) of their own group
    members = [m for col in ("member_1", "member_2", "member_3") for m in got[col] if m]
    assert sorted(members) == sorted(raw["id"])
    group_of = dict(zip(out["id"], out["group"], strict=True))
    for _, row in got.iterrows():
        assert {group_of[m] for m in (row.member_1, row.member_2, row.member_3) if m} == \
            {row.group}
    report = client.get(f"/s/{sid}/download/report.html")
    assert report.status_code == 200 and report.text.lstrip().lower().startswith("<!doctype")
    # calendars need a meeting slot per group (the common-slot rule): without it the
    # download is refused in the words of `peermatch calendar`
    cal = client.get(f"/s/{sid}/download/calendars.zip", params={"start": "2027-01-05"})
    assert cal.status_code == 400 and "meeting_slot" in cal.text


def test_calendars_of_a_grouping_with_meeting_slots(tmp_path, raw):
    wb = Workbench(tmp_path / "s.sqlite3")
    client = TestClient(create_app(wb, token=TOKEN, port=PORT), base_url=BASE, headers=AUTH)
    sid = wb.open_file("members.csv", raw.to_csv(index=False).encode())
    wb.set_settings(sid, {"min_size": str(LO), "max_size": str(HI), "time_limit": "2",
                          "competitors": "industry, region", "common_slot": "on"})
    client.post(f"/api/s/{sid}/run")
    assert wb.jobs.wait(sid, timeout=120)["state"] == "done"
    out = _groups({"client": client, "sid": sid})
    assert violations(raw, out, LO, HI, rules=wb.workspace(sid).rules) == []
    cal = client.get(f"/s/{sid}/download/calendars.zip",
                     params={"start": "2027-01-05", "every": "month", "count": "3"})
    assert cal.status_code == 200, cal.text
    files = zipfile.ZipFile(io.BytesIO(cal.content))
    assert len(files.namelist()) == out["group"].nunique()
    for name in files.namelist():
        text = files.read(name).decode()
        assert text.startswith("BEGIN:VCALENDAR") and "COUNT=3" in text


def test_sessions_survive_a_restart(server):
    sid = server["sid"]
    before = server["wb"].workspace(sid)
    again = Workbench(server["path"])  # a new server on the same state file
    ws = again.workspace(sid)
    assert ws.state.groups == before.state.groups
    assert ws.state.locked == before.state.locked
    assert ws.settings == before.settings
    assert again.store.history(sid) == server["wb"].store.history(sid)
    client = TestClient(create_app(again, token=TOKEN, port=PORT), base_url=BASE,
                        headers=AUTH)
    assert client.get(f"/s/{sid}").status_code == 200
    assert json.loads(client.get(f"/api/s/{sid}/status").text)["rev"] == \
        server["wb"].store.revision(sid)


def test_stop_keeps_the_best_grouping_and_a_reload_shows_the_run(tmp_path, raw):
    wb = Workbench(tmp_path / "s.sqlite3")
    client = TestClient(create_app(wb, token=TOKEN, port=PORT), base_url=BASE,
                        headers=AUTH, follow_redirects=False)
    sid = wb.open_file("members.csv", raw.to_csv(index=False).encode())
    wb.set_settings(sid, {"min_size": str(LO), "max_size": str(HI), "time_limit": "60"})
    assert client.post(f"/api/s/{sid}/run").status_code == 200
    again = client.post(f"/api/s/{sid}/run")
    assert again.status_code == 409  # one run at a time
    status = client.get(f"/api/s/{sid}/status").json()
    assert status["job"]["state"] == "running"
    # a reload (the page, or a second tab) shows the run still going
    assert "Running: best score" in client.get(f"/s/{sid}").text
    deadline = time.time() + 60
    while wb.jobs.status(sid)["best"] is None and time.time() < deadline:
        time.sleep(0.1)
    assert client.post(f"/api/s/{sid}/stop").status_code == 200
    job = wb.jobs.wait(sid, timeout=60)
    assert job["state"] == "stopped", job
    # the solver's own record: cut short by Stop, the best grouping kept
    assert "(stopped: the best found)" in job["message"], job
    assert violations(raw, _groups({"client": client, "sid": sid}), LO, HI) == []
    assert client.post(f"/api/s/{sid}/stop").status_code == 409


def test_a_groups_file_opens_as_its_grouping(server, raw):
    out = _groups(server)
    r = server["client"].post("/open", files={"file": ("groups.csv",
                                                       out.to_csv(index=False))})
    assert r.status_code == 303
    sid = r.headers["location"].rsplit("/", 1)[1]
    ws = server["wb"].workspace(sid)
    assert ws.state.groups == list(out["group"])


def test_odd_upload_names_are_plain_names(server, raw):
    client = server["client"]
    for name in ("..", 'we"ird\r\nname.csv', "../../etc/members.csv"):
        r = client.post("/open", files={"file": (name, raw.to_csv(index=False))})
        assert r.status_code == 303, (name, r.text)
        sid = r.headers["location"].rsplit("/", 1)[1]
        server["wb"].store.push(sid, _labels(server), [], "the main session's grouping")
        d = client.get(f"/s/{sid}/download/groups.csv")
        assert d.status_code == 200
        assert re.fullmatch(r'attachment; filename="[\w.-]+"', d.headers["content-disposition"])


def test_unknown_sessions_and_downloads(server):
    client = server["client"]
    assert client.get("/s/nope").status_code == 404
    assert client.get("/api/s/nope/status").status_code == 404
    assert client.get(f"/s/{server['sid']}/download/secrets.txt").status_code == 404


def test_the_command_serves_on_localhost_with_a_token_until_ctrl_c(tmp_path, raw):
    """``peermatch app FILE --no-browser --port 0``: the address it prints works (the
    token becomes a cookie), a foreign Host is refused, Ctrl-C ends it with exit 0."""
    import os
    import re
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    path = tmp_path / "members.csv"
    raw.to_csv(path, index=False)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(root), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "peermatch", "app", str(path), "--no-browser", "--port", "0",
         "--state", str(tmp_path / "state.sqlite3")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)(/s/\w+)\?token=([\w-]+)", line)
        assert m, line
        port, where, token = m.groups()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(100):  # the socket listens before the server answers
                try:
                    r = client.get(f"{where}?token={token}", follow_redirects=True)
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            assert r.status_code == 200 and "members.csv" in r.text
            assert str(r.url).endswith(where)  # no token left in the address
            assert client.get(where, headers={"host": f"evil.example:{port}"}).status_code \
                == 403
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as stranger:
            assert stranger.get(where).status_code == 403
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0, proc.stderr.read()


def test_the_server_binds_to_localhost_only():
    from peermatch.app.run import HOST, bind

    sock = bind(0)
    try:
        assert HOST == "127.0.0.1" and sock.getsockname()[0] == "127.0.0.1"
        taken = sock.getsockname()[1]
        with pytest.raises(pm.ConfigError, match="--port"):
            bind(taken)  # a port in use: refused in words that say what to do
    finally:
        sock.close()


def test_a_run_cut_by_a_restart_is_reported_lost_and_the_grouping_kept(tmp_path, raw):
    wb = Workbench(tmp_path / "s.sqlite3")
    sid = wb.open_file("members.csv", raw.to_csv(index=False).encode())
    wb.store.push(sid, [str(1 + i % 8) for i in range(N)], [], "a grouping")
    # the record a run leaves while it goes, as if the server stopped during it
    wb.store.save_job(sid, {"kind": "run", "state": "running", "best": 1.0, "elapsed": 1.0,
                            "time_limit": 10.0, "left": 9.0, "message": "",
                            "stopping": False})
    again = Workbench(tmp_path / "s.sqlite3")
    job = again.jobs.status(sid)
    assert job["state"] == "lost" and "before it is kept" in job["message"]
    assert again.store.current(sid).action == "a grouping"
    client = TestClient(create_app(again, token=TOKEN, port=PORT), base_url=BASE,
                        headers=AUTH)
    assert client.post(f"/api/s/{sid}/stop").status_code == 409  # nothing is running


def test_progress_is_pushed_as_server_sent_events(tmp_path, raw):
    wb = Workbench(tmp_path / "s.sqlite3")
    client = TestClient(create_app(wb, token=TOKEN, port=PORT, stream_seconds=3.0),
                        base_url=BASE, headers=AUTH, follow_redirects=False)
    sid = wb.open_file("members.csv", raw.to_csv(index=False).encode())
    wb.set_settings(sid, {"min_size": str(LO), "max_size": str(HI), "time_limit": "2"})
    assert client.post(f"/api/s/{sid}/run").status_code == 200
    events = []
    with client.stream("GET", f"/api/s/{sid}/events") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "default-src 'self'" in r.headers["content-security-policy"]
        for line in r.iter_lines():  # the stream ends by itself after stream_seconds
            if line.startswith("data: "):
                events.append(json.loads(line[len("data: "):]))
    assert events, "no event"
    # the first event is the status as it was (a run going); each event differs from the
    # one before (only changes are sent)
    assert events[0]["job"]["state"] == "running"
    assert all(a != b for a, b in zip(events, events[1:], strict=False))
    assert wb.jobs.wait(sid, timeout=120)["state"] == "done"
    # a new stream (the page reconnects) starts from the finished run
    with client.stream("GET", f"/api/s/{sid}/events") as r:
        first = next(line for line in r.iter_lines() if line.startswith("data: "))
    done = json.loads(first[len("data: "):])
    assert done == client.get(f"/api/s/{sid}/status").json()
    assert done["job"]["state"] == "done" and done["rev"] > events[0]["rev"]
    assert client.get("/api/s/nope/events").status_code == 404
    # without the token, no stream
    bare = TestClient(create_app(wb, token=TOKEN, port=PORT), base_url=BASE)
    assert bare.get(f"/api/s/{sid}/events").status_code == 403
