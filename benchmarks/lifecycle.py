"""The programme cycle on a held-out grouping: pairs, calendars, repair — checked independently.

    python benchmarks/lifecycle.py --out benchmarks/results/lifecycle.json

Generates 200 candidates with a seed used nowhere else (1313), groups them into 20
groups (sizes 8-12, common meeting slot), then measures, each against a reference that
shares no code with peermatch's own:

* accountability pairs: everyone in exactly one pair or triad inside their own group;
  total pair affinity per group against networkx's maximum-weight matching (even groups)
  or the best triad plus matching by brute force over every triad (odd groups: the same
  candidates are also grouped 9-11, every group odd);
* a second round with the first as history: pairs repeated;
* calendars: one file per group, parsed back with ``icalendar``, a recurring event whose
  every occurrence (expanded with ``dateutil``) falls on the group's slot weekday;
* attrition: members leave three groups (rows removed, each group below the minimum);
  ``repair`` is checked by ``tests/validator.py`` (everyone once, sizes in bounds, no
  competitor or conflict inside) and no member of a group that stayed within bounds moves.

The number of groups is fixed: in this sample 18 candidates compete (Software in the
Southeast), so with the 18 groups the solver may choose no group could ever be dissolved
and no repair exists without moving members of healthy groups (``repair`` says so);
with 20 groups any two may go.

``figures()`` returns the numbers (``tests/test_lifecycle.py`` asserts on them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import peermatch as pm  # noqa: E402
from tests.validator import violations  # noqa: E402

SEED = 1313  # held out: used by no other test, doc or benchmark
DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def reference_value(W: np.ndarray) -> float:
    """Best total tie weight of pairs (plus one triad when odd), by networkx and brute force."""
    k = len(W)

    def matching(nodes):
        if len(nodes) < 2:
            return 0.0
        G = nx.Graph()
        for a, b in itertools.combinations(nodes, 2):
            G.add_edge(a, b, weight=float(W[a, b]))
        M = nx.max_weight_matching(G, maxcardinality=True)
        assert len(M) == len(nodes) // 2
        return sum(float(W[a, b]) for a, b in M)

    if k % 2 == 0:
        return matching(list(range(k)))
    if k == 1:
        return 0.0
    best = -np.inf
    for t in itertools.combinations(range(k), 3):
        a, b, c = t
        rest = [x for x in range(k) if x not in t]
        best = max(best, W[a, b] + W[a, c] + W[b, c] + matching(rest))
    return float(best)


def ties(frame: pd.DataFrame) -> set[frozenset]:
    out = set()
    for r in frame.itertuples(index=False):
        mem = [x for x in (r.member_1, r.member_2, r.member_3) if x]
        out.update(frozenset(p) for p in itertools.combinations(mem, 2))
    return out


def check_pairs(res, frame: pd.DataFrame) -> dict:
    ids = [str(x) for x in res.table.ids]
    pos = {x: i for i, x in enumerate(ids)}
    group_of = {ids[i]: res.group_names[g] for i, g in enumerate(res.labels)}
    seen: dict[str, int] = {}
    wrong_group = bad_units = 0
    for r in frame.itertuples(index=False):
        mem = [x for x in (r.member_1, r.member_2, r.member_3) if x]
        bad_units += not 2 <= len(mem) <= 3
        for x in mem:
            seen[x] = seen.get(x, 0) + 1
            wrong_group += group_of[x] != str(r.group)
    everyone_once = sorted(seen) == sorted(ids) and all(v == 1 for v in seen.values())
    ratios, triads_ok = [], True
    for g, name in enumerate(res.group_names):
        mem = np.flatnonzero(res.labels == g)
        W = np.asarray(res.affinity)[np.ix_(mem, mem)]
        ours = frame[frame["group"] == name]
        n_tri = int((ours["member_3"] != "").sum())
        triads_ok &= n_tri == len(mem) % 2
        # Our total, recomputed from the ids (not from the affinity column).
        total = 0.0
        for r in ours.itertuples(index=False):
            m = [pos[x] for x in (r.member_1, r.member_2, r.member_3) if x]
            total += sum(float(res.affinity[a, b]) for a, b in itertools.combinations(m, 2))
        ref = reference_value(W)
        ratios.append(total / ref if ref > 0 else 1.0)
    return {"everyone_once": bool(everyone_once), "wrong_group": int(wrong_group),
            "bad_units": int(bad_units), "one_triad_per_odd_group": bool(triads_ok),
            "min_ratio_to_reference": float(min(ratios)),
            "mean_ratio_to_reference": float(np.mean(ratios))}


def check_calendars(res, folder: Path, count: int) -> dict:
    import icalendar
    from dateutil.rrule import rrulestr

    slots = res.meeting_slots
    files = sorted(folder.glob("*.ics"))
    ok = 0
    for g, name in enumerate(res.group_names):
        path = folder / f"group-{name.lower()}.ics"
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        events = cal.walk("VEVENT")
        day = DAYS[slots[g].strip()[:3].casefold()]
        ev = events[0]
        start = ev.decoded("dtstart")
        rule = ev["rrule"]
        occ = list(rrulestr(rule.to_ical().decode(), dtstart=start))
        members = [str(res.table.ids[i]) for i in np.flatnonzero(res.labels == g)]
        desc = str(ev["description"])
        good = (len(events) == 1 and start.weekday() == day and len(occ) == count
                and all(d.weekday() == day for d in occ)
                and any(CODES[day] in str(b) for b in rule.get("BYDAY", []))
                and all(m in desc for m in members) and "@" not in desc)
        ok += bool(good)
    return {"files": len(files), "groups": res.n_groups, "valid_recurring_on_weekday": ok}


def attrition(res, rules, lo: int, hi: int, time_limit: float, seed: int) -> dict:
    frame = res.groups.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    names = list(res.group_names)
    hit = [names[g] for g in rng.choice(len(names), size=3, replace=False)]
    keep_sizes = dict(zip(hit, (lo - 3, lo - 2, lo - 1), strict=True))
    drop = []
    for g, k in keep_sizes.items():
        rows = np.flatnonzero(frame["group"].to_numpy() == g)
        drop.extend(rng.choice(rows, size=len(rows) - k, replace=False).tolist())
    left = frame.drop(index=drop).reset_index(drop=True)
    gone = set(frame.loc[drop, "id"])
    t0 = time.perf_counter()
    rep = pm.repair(left, min_size=lo, max_size=hi, rules=rules, time_limit=time_limit, seed=0)
    secs = time.perf_counter() - t0
    if not rep.success:
        return {"groups_hit": hit, "sizes_left": [keep_sizes[g] for g in hit],
                "members_left": len(drop), "status": rep.status, "reasons": rep.reasons,
                "seconds": round(secs, 2)}
    out = rep.groups
    # The validator compares every input column: the only change allowed besides 'group'
    # and 'meeting_slot' is dropping ids of members who left from 'conflicts'.
    raw = left.drop(columns=["group", "meeting_slot"])
    cleaned = [sorted(x.strip() for x in str(c).split(";") if x.strip() and x.strip() not in gone)
               for c in left["conflicts"]]
    got = [sorted(x.strip() for x in str(c).split(";") if x.strip()) for c in out["conflicts"]]
    raw = raw.assign(conflicts=out["conflicts"].tolist())
    errs = violations(raw, out.drop(columns=["meeting_slot"]), lo, hi)
    healthy_rows = ~left["group"].isin(hit).to_numpy()
    healthy_moved = int(np.sum(out["group"].to_numpy()[healthy_rows]
                               != left["group"].to_numpy()[healthy_rows]))
    after = rep.result
    pairs = check_pairs(after, pm.accountability_pairs(after).frame)
    return {"groups_hit": hit, "sizes_left": [keep_sizes[g] for g in hit],
            "members_left": len(drop), "status": rep.status, "pairs_after": pairs,
            "validator_errors": len(errs) + (cleaned != got), "errors": errs[:5],
            "healthy_members_moved": healthy_moved, "moved": rep.n_moved,
            "dissolved": rep.dissolved, "kept": rep.kept, "groups_after": len(rep.group_names),
            "peermatch_violations": len(rep.violations), "seconds": round(secs, 2)}


def figures(n: int = 200, seed: int = SEED, time_limit: float = 5.0,
            n_groups: int | None = 20, options: dict | None = None) -> dict:
    # options: solver options of the two matches (the tests end them with max_iter; the
    # figures are about pairs, calendars and repair, not the matches' scores)
    lo, hi = 8, 12
    rules = pm.Rules(common_slot=True)
    df = pm.synth_candidates(n, seed=seed)
    t0 = time.perf_counter()
    res = pm.match(df, min_size=lo, max_size=hi, n_groups=n_groups, rules=rules,
                   time_limit=time_limit, seed=0, options=options)
    assert res.success and not res.validate(), res.message
    out: dict = {"n": n, "seed": seed, "groups": res.n_groups,
                 "group_sizes": sorted(np.bincount(res.labels).tolist()),
                 "match_seconds": round(time.perf_counter() - t0, 2)}
    t = time.perf_counter()
    first = pm.accountability_pairs(res)
    out["pairs_seconds"] = round(time.perf_counter() - t, 2)
    out["round_1"] = check_pairs(res, first.frame)
    out["round_1"]["odd_groups"] = int(np.sum(np.bincount(res.labels) % 2))
    # The same candidates in groups of 9 and 11: every group odd, so every group has a
    # triad, checked against the brute force over all its triads.
    odd = pm.match(df, min_size=9, max_size=11, n_groups=n_groups, rules=rules,
                   time_limit=time_limit, seed=0, even_sizes=False, options=options)
    assert odd.success and not odd.validate(), odd.message
    out["round_odd"] = check_pairs(odd, pm.accountability_pairs(odd).frame)
    out["round_odd"]["odd_groups"] = int(np.sum(np.bincount(odd.labels) % 2))
    second = pm.accountability_pairs(res, history=first)
    out["round_2"] = check_pairs(res, second.frame)
    out["round_2"]["repeated_pairs"] = len(ties(first.frame) & ties(second.frame))
    out["round_2"]["reported_repeats"] = second.repeats
    out["round_2"]["affinity_vs_round_1"] = float(second.frame["affinity"].sum()
                                                  / first.frame["affinity"].sum())
    with tempfile.TemporaryDirectory() as d:
        pm.write_calendars(res, d, start=dt.date(2025, 1, 6), every="month", count=10,
                           pairs=first, stamp=dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
        out["calendars"] = check_calendars(res, Path(d), 10)
    out["repair"] = attrition(res, rules, lo, hi, time_limit, seed)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--time-limit", type=float, default=5.0)
    ap.add_argument("--groups", type=int, default=20)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "lifecycle.json"))
    args = ap.parse_args(argv)
    f = figures(args.n, args.seed, args.time_limit, args.groups)
    r1, r2, cal, rep = f["round_1"], f["round_2"], f["calendars"], f["repair"]
    print(f"{f['n']} candidates (seed {f['seed']}) in {f['groups']} groups, sizes "
          f"{min(f['group_sizes'])}-{max(f['group_sizes'])}")
    print(f"pairs, round 1: everyone in exactly one pair/triad of their own group: "
          f"{r1['everyone_once'] and not r1['wrong_group'] and r1['one_triad_per_odd_group']}; "
          f"total affinity / reference: min {r1['min_ratio_to_reference']:.4f}, mean "
          f"{r1['mean_ratio_to_reference']:.4f} ({f['pairs_seconds']} s)")
    po = f["round_odd"]
    print(f"pairs, same candidates in groups of 9-11 ({po['odd_groups']} odd groups, one triad "
          f"each): everyone once {po['everyone_once'] and not po['wrong_group']}; total "
          f"affinity / reference (brute force over every triad): min "
          f"{po['min_ratio_to_reference']:.4f}")
    print(f"pairs, round 2 with round 1 as history: {r2['repeated_pairs']} repeated pair(s); "
          f"affinity {r2['affinity_vs_round_1']:.3f} of round 1")
    print(f"calendars: {cal['files']} files for {cal['groups']} groups; "
          f"{cal['valid_recurring_on_weekday']} parse back with a recurring event on the "
          "group's weekday")
    print(f"repair after members left groups {', '.join(rep['groups_hit'])} (down to "
          f"{rep['sizes_left']} members): {rep['status']}, validator errors "
          f"{rep['validator_errors']}, healthy members moved {rep['healthy_members_moved']}, "
          f"moved {rep['moved']}, dissolved {rep['dissolved']}, kept {rep['kept']}, "
          f"{rep['groups_after']} groups ({rep['seconds']} s)")
    path = Path(args.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(f, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
