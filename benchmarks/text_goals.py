"""Benchmark of the free-text goals: grouping quality and the cost of the text components.

Usage::

    python benchmarks/text_goals.py --out benchmarks/results/text_goals.json

Quality: candidates from :func:`peermatch.synth_candidates` get intake answers written by
:func:`peermatch.datasets.synth_intake` from hidden topics (several phrasings per topic,
words shared between topics, typos, about 10 % empty answers; an empty answer has no
topic). The same ``match`` run (seed, time limit, one worker) groups them with the text
columns off (tags only: the default weights) and on. Reported: the share of within-group
pairs whose goals answers share a hidden topic, in both runs and over all pairs (what
chance gives), and, with text on, the share of those pairs for which
:func:`peermatch.text.shared_terms` names a word of a topic they share.

Speed: 10,000 candidates with three answers of about 40 words (goals and worries on the
wants side, offers on the offers side). The dense affinity of the text components alone
is timed against that of the tag components (goals and inspiration), both float32 with
one thread, as the minimum over ``--repeats`` runs of the process CPU time (the machine
is shared: CPU time is what the run itself used; wall times are recorded too). Feature
blocks of 160 x 160 (a solver neighbourhood) are timed the same way, and TF-IDF
vectorising is timed apart.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import write_rows  # noqa: E402

import peermatch as pm  # noqa: E402
from peermatch.affinity import FeatureAffinity  # noqa: E402
from peermatch.datasets import INTAKE_TOPICS, synth_intake  # noqa: E402
from peermatch.features import TextColumn, encode  # noqa: E402
from peermatch.scoring import Weights, affinity  # noqa: E402
from peermatch.text import shared_terms  # noqa: E402

TOPIC_WORDS = {t: {w.lower() for phrase in words for w in phrase.split()}
               for t, words in INTAKE_TOPICS.items()}


def named_words(terms: list[str]) -> set[str]:
    """The words of quoted terms, lowercase, without the short words that join a phrase
    ("sell the company")."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return {w.lower() for term in terms for w in term.split()} - ENGLISH_STOP_WORDS


def with_answers(n: int, seed: int, worries: bool = False):
    """Synthetic candidates plus intake answers; returns the table and the goals' topics."""
    df = pm.synth_candidates(n, seed=seed)
    rng = np.random.default_rng([seed, 1])
    goals = synth_intake(n, seed=rng, side="wants")
    df["intake_goals"] = goals["text"].to_numpy()
    df["intake_offers"] = synth_intake(n, seed=rng, side="offers")["text"].to_numpy()
    if worries:
        df["intake_worries"] = synth_intake(n, seed=rng, side="wants")["text"].to_numpy()
    topics = [set(t.split("; ")) if t else set() for t in goals["topics"]]
    return df, topics


def within_pairs(labels: np.ndarray):
    for g in np.unique(labels[labels >= 0]):
        members = np.flatnonzero(labels == g)
        for a in range(members.size):
            for b in range(a + 1, members.size):
                yield int(members[a]), int(members[b])


def quality(args) -> list[dict]:
    df, topics = with_answers(args.n, args.seed)
    text = Weights(columns=(TextColumn("intake_goals", "wants", args.text_weight),
                            TextColumn("intake_offers", "offers", args.text_weight)))
    n = args.n
    share_all = np.mean([bool(topics[i] & topics[j]) for i in range(n) for j in range(i + 1, n)])
    rows = []
    for name, w in (("text off", Weights()), ("text on", text)):
        t0 = time.perf_counter()
        res = pm.match(df, min_size=8, max_size=12, weights=w, time_limit=args.time_limit,
                       seed=args.seed, workers=1)
        wall = time.perf_counter() - t0
        pairs = list(within_pairs(np.asarray(res.labels)))
        sharing = [(i, j) for i, j in pairs if topics[i] & topics[j]]
        named = float("nan")
        if name == "text on":
            f = encode(pm.read_candidates(df), specs=text.columns)
            hits = 0
            for i, j in sharing:
                words = named_words(shared_terms(f, i, j, k=5))
                hits += any(words & TOPIC_WORDS[t] for t in topics[i] & topics[j])
            named = hits / max(1, len(sharing))
        rows.append({"part": "quality", "case": name, "n": n, "seed": args.seed,
                     "time_limit_s": args.time_limit, "workers": 1, "method": res.method,
                     "status": res.status, "text_weight": args.text_weight,
                     "within_pairs": len(pairs),
                     "share_sharing_topic": round(len(sharing) / max(1, len(pairs)), 4),
                     "share_all_pairs": round(float(share_all), 4),
                     "shared_terms_name_topic": round(named, 4), "wall_s": round(wall, 2)})
    rows[1]["ratio_on_off"] = round(rows[1]["share_sharing_topic"]
                                    / max(1e-12, rows[0]["share_sharing_topic"]), 2)
    return rows


def timed(fn, repeats: int) -> tuple[float, float]:
    """Minimum process CPU time and minimum wall time of ``fn()`` over ``repeats`` runs."""
    cpu, wall = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    return min(cpu), min(wall)


def speed(args) -> list[dict]:
    n = args.speed_n
    df, _ = with_answers(n, args.seed, worries=True)
    table = pm.read_candidates(df)
    cols = (TextColumn("intake_goals", "wants"), TextColumn("intake_offers", "offers"),
            TextColumn("intake_worries", "wants"))
    words = np.mean([len(t.split()) for c in ("intake_goals", "intake_offers", "intake_worries")
                     for t in df[c] if t])
    vec_cpu, vec_wall = timed(lambda: encode(table, specs=cols), 1)
    f = encode(table, specs=cols)
    off = {"goals": 0.0, "inspiration": 0.0, "caliber": 0.0, "diversity": 0.0}
    cases = {"tag components (goals, inspiration)": Weights(caliber=0.0, diversity=0.0),
             "text components (3 answers)": Weights(**off, columns=cols)}
    rng = np.random.default_rng(args.seed)
    blocks = [rng.choice(n, 160, replace=False) for _ in range(args.blocks)]
    rows = []
    for name, w in cases.items():
        affinity(f, w, dtype=np.float32, workers=1)  # warm-up (the text kernel compiles)
        cpu, wall = timed(lambda w=w: affinity(f, w, dtype=np.float32, workers=1),
                          args.repeats)
        FA = FeatureAffinity(f, w)
        FA.block(blocks[0])
        bcpu, bwall = timed(lambda FA=FA: [FA.block(b) for b in blocks], args.repeats)
        rows.append({"part": "speed", "case": name, "n": n, "mean_words": round(float(words), 1),
                     "dense_cpu_s": round(cpu, 3), "dense_wall_s": round(wall, 3),
                     "block_160_cpu_ms": round(bcpu / len(blocks) * 1e3, 3),
                     "block_160_wall_ms": round(bwall / len(blocks) * 1e3, 3),
                     "feature_affinity_MB": round(FA.nbytes / 1e6, 1),
                     "tfidf_cpu_s": round(vec_cpu, 2) if "text" in name else None,
                     "repeats": args.repeats, "dtype": "float32", "threads": 1})
    rows[1]["dense_ratio_cpu"] = round(rows[1]["dense_cpu_s"] / rows[0]["dense_cpu_s"], 2)
    rows[1]["block_ratio_cpu"] = round(rows[1]["block_160_cpu_ms"]
                                       / rows[0]["block_160_cpu_ms"], 2)
    return rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=480, help="candidates of the quality runs")
    p.add_argument("--time-limit", type=float, default=10.0, help="seconds per match run")
    p.add_argument("--text-weight", type=float, default=8.0,
                   help="weight of each text column in the 'text on' run")
    p.add_argument("--speed-n", type=int, default=10_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--blocks", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-quality", action="store_true")
    p.add_argument("--skip-speed", action="store_true")
    p.add_argument("--out", default="benchmarks/results/text_goals.json")
    args = p.parse_args(argv)
    rows = [] if args.skip_quality else quality(args)
    rows += [] if args.skip_speed else speed(args)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    for r in rows:
        r["python"] = platform.python_version()
        r["load_average"] = round(load, 2)
    write_rows(rows, args.out, "text goals")


if __name__ == "__main__":
    main()
