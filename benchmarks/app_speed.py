"""How fast the workbench (``peermatch app``) answers a drag and a weight change.

    python benchmarks/app_speed.py --out benchmarks/results/app_speed.json
    python benchmarks/app_speed.py --sizes 1000 5000 --repeats 21

For each size, the bundled generator's candidates are grouped once by
:func:`peermatch.match` (``--time-limit``), and that groups CSV is opened as a session of
a workbench on a fresh state file. Then, ``--repeats`` times each (after one untimed
warm-up), through the real application (Starlette's TestClient: routing, the security
middleware, JSON, the thread pool) and, beside it, the library call alone:

* **check a move**: what the page asks before a drop is confirmed
  (``POST /api/s/{sid}/check-move``; :func:`peermatch.check_move`), for a random member
  and a random other group each time. The bar: under 100 ms at 1,000 candidates.
* **check a swap**: the same for a drop onto a member (``check-swap``).
* **re-score after a weight change**: ``POST /api/s/{sid}/settings`` with a new weight,
  which re-scores the current grouping at once and answers with the new score; the
  library part is :func:`peermatch.report.from_grouping` with the new weights. The bar:
  under 300 ms at 1,000 candidates.
* **move, then the cards**: a legal move (``POST move``; one member there and back) and
  the page's refresh of the cards (``GET /s/{sid}/grouping``), which re-scores the new
  state and renders every member; reported, no bar.

The figure is the median wall time (p90 beside it). Speed is measured here, never asserted
in the tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._report import write_rows  # noqa: E402

#: operation -> the bar (seconds) it should stay under at 1,000 candidates, or None.
BARS = {"check a move": 0.100, "check a swap": 0.100, "re-score after a weight change": 0.300,
        "move, then the cards": None}


def _timed(fn, repeats: int) -> list[float]:
    fn()  # warm-up: caches, first-call imports
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _session(n: int, time_limit: float, folder: Path):
    """A workbench with one session: ``n`` candidates grouped by ``match``."""
    from starlette.testclient import TestClient

    import peermatch as pm
    from peermatch.app.server import create_app
    from peermatch.app.workbench import Workbench

    table = pm.synth_candidates(n, seed=0)
    res = pm.match(table, min_size=8, max_size=12, time_limit=time_limit, seed=0)
    wb = Workbench(folder / f"state-{n}.sqlite3")
    sid = wb.open_file(f"groups-{n}.csv", res.groups.to_csv(index=False).encode())
    port, token = 8765, "bench"
    client = TestClient(create_app(wb, token=token, port=port),
                        base_url=f"http://127.0.0.1:{port}",
                        headers={"x-peermatch-token": token})
    return wb, sid, client


def _cases(wb, sid: str, client, rng: np.random.Generator) -> dict:
    """operation -> (through the application, the library call alone)."""
    from peermatch.move import check_move
    from peermatch.report import from_grouping

    api = f"/api/s/{sid}"
    G = wb.workspace(sid).grouping
    n, names = len(G.ids), [G.names[g] for g in G.order]

    def pick_move():
        i = int(rng.integers(n))
        other = [g for g in names if g != G.names[G.labels[i]]]
        return G.ids[i], other[int(rng.integers(len(other)))]

    def pick_swap():
        while True:
            i, j = (int(k) for k in rng.integers(n, size=2))
            if G.labels[i] != G.labels[j]:
                return G.ids[i], G.ids[j]

    def http_move():
        m, g = pick_move()
        assert client.post(f"{api}/check-move", json={"member": m, "group": g}).status_code \
            == 200

    def lib_move():
        check_move(wb.workspace(sid), *pick_move())

    def http_swap():
        a, b = pick_swap()
        assert client.post(f"{api}/check-swap", json={"a": a, "b": b}).status_code == 200

    def lib_swap():
        wb.workspace(sid).check_swap(*pick_swap())

    weights = iter(np.tile([0.2, 0.4], 10_000))

    def http_weight():
        r = client.post(f"{api}/settings", json={"diversity": str(next(weights))})
        assert r.status_code == 200 and r.json()["score"] is not None

    def lib_weight():
        ws = wb.workspace(sid)
        w = ws.weights.__class__.from_dict({**ws.settings["weights"],
                                            "diversity": float(next(weights))})
        from_grouping(ws.result.groups, weights=w, rules=ws.rules, min_size=ws.lo,
                      max_size=ws.hi)

    ws = wb.workspace(sid)
    legal = next(c for c in (ws.check_move(*pick_move()) for _ in range(1000)) if c["ok"])
    there = iter([legal["to"], legal["from"]] * 10_000)  # there and back, both legal

    def http_move_and_cards():
        r = client.post(f"{api}/move", json={"member": legal["member"], "group": next(there)})
        assert r.status_code == 200, r.text
        assert client.get(f"/s/{sid}/grouping").status_code == 200

    return {"check a move": (http_move, lib_move), "check a swap": (http_swap, lib_swap),
            "re-score after a weight change": (http_weight, lib_weight),
            "move, then the cards": (http_move_and_cards, None)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--time-limit", type=float, default=10.0,
                    help="seconds of the match run that makes the grouping")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "app_speed.json"))
    args = ap.parse_args(argv)
    rows = []
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory(prefix="peermatch-app-bench-") as tmp:
        for n in args.sizes:
            wb, sid, client = _session(n, args.time_limit, Path(tmp))
            with client:
                for op, (http, lib) in _cases(wb, sid, client, rng).items():
                    t_http = _timed(http, args.repeats)
                    t_lib = _timed(lib, args.repeats) if lib is not None else None
                    bar = BARS[op]
                    med = statistics.median(t_http)
                    rows.append({
                        "candidates": n, "operation": op, "repeats": args.repeats,
                        "median_ms": round(1000 * med, 1),
                        "p90_ms": round(1000 * float(np.quantile(t_http, 0.9)), 1),
                        "library_median_ms": None if t_lib is None else
                        round(1000 * statistics.median(t_lib), 1),
                        "bar_ms": None if bar is None else round(1000 * bar),
                        "within_bar": None if bar is None or n != 1000 else bool(med < bar),
                    })
    write_rows(rows, args.out, "peermatch app: answers of the workbench (median of "
               f"{args.repeats}, through the application; the library call alone beside)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
