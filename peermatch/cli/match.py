"""``peermatch match``: the main job, candidates CSV in, groups CSV out."""

from __future__ import annotations

import argparse
import sys

from . import EXIT_INFEASIBLE, EXIT_INTERRUPTED, EXIT_OK
from ._common import (
    Progress,
    add_fairness_options,
    add_input_options,
    add_rule_options,
    add_size_options,
    add_weight_options,
    dumps_json,
    input_paths,
    load_settings,
    read_table,
)

DESCRIPTION = """\
Split the candidates into groups that obey every hard rule (sizes, no competitors,
no conflicts) and are as mutually inspiring as possible. The output CSV holds every
input row and column plus a 'group' column (1, 2, ...). Nothing is written unless
a valid grouping was found. Group sizes differ by at most one unless --free-sizes.
With --out - the CSV goes to standard output and the summary to standard error.
Ctrl-C stops the search: the best valid grouping found so far is written and the
command exits 130.

example:
  peermatch match candidates.csv --out groups.csv --min-size 8 --max-size 12 \\
      --time-limit 30 --seed 0
"""


def register(sub) -> None:
    p = sub.add_parser("match", help="form groups from a candidates CSV", description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("candidates", help="candidates CSV file")
    p.add_argument("--out", "-o", required=True,
                   help="groups CSV to write ('-': standard output; the summary then goes to "
                   "standard error)")
    add_size_options(p)
    p.add_argument("--time-limit", type=float, default=None, metavar="SECONDS",
                   help="solver time budget in seconds (default 10)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default 0)")
    p.add_argument("--method", default=None, help="solver method: auto, exact, local, hybrid")
    p.add_argument("--workers", type=int, default=None,
                   help="solver threads (default 1: deterministic)")
    p.add_argument("--scheduler", default=None, metavar="SPEC",
                   help="solve on a Dask cluster: 'local', 'local:N' (N worker processes for "
                        "this run) or a scheduler address tcp://host:port; needs "
                        "pip install 'peermatch[distributed]' (default: this process)")
    p.add_argument("--summary", metavar="JSON", help="also write a machine-readable summary")
    p.add_argument("--report", metavar="HTML", help="also write a self-contained HTML report")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="also print the solver's plan (which engines ran, and why) on "
                        "standard error")
    add_fairness_options(p)
    add_weight_options(p)
    add_rule_options(p)
    add_input_options(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from ..errors import ConfigError
    from ..match import match
    from ..output import STDOUT, check_writable, write_all

    cfg = load_settings(args)
    m = cfg["match"]
    to_stdout = [o for o, v in (("--out", args.out), ("--summary", args.summary),
                                ("--report", args.report)) if v == STDOUT]
    if to_stdout and args.json:
        raise ConfigError(f"{to_stdout[0]} - and --json both write to standard output. Name "
                          f"a file for {to_stdout[0]}, or leave out --json.")
    # Every output is checked before solving: a bad path fails in a second, not after
    # the whole time budget, and nothing is written unless all outputs can be.
    paths = [p for p in (args.out, args.summary, args.report) if p]
    check_writable(paths, inputs=input_paths(args), stdout_ok=True)
    time_limit = float(m.get("time_limit", 10.0))
    progress = Progress(time_limit, enabled=not (args.quiet or args.json))
    try:
        table = read_table(args.candidates, args, cfg)
        res = match(table, min_size=m.get("min_size", 8), max_size=m.get("max_size", 12),
                    n_groups=m.get("groups"), weights=cfg["weights"], rules=cfg["rules"],
                    method=m.get("method", "auto"), time_limit=time_limit,
                    seed=m.get("seed", 0), workers=m.get("workers", 1),
                    callback=progress, scheduler=m.get("scheduler"),
                    fairness=m.get("fairness", 0.0), even_sizes=m.get("even_sizes"),
                    target_size=m.get("target_size"), group_sizes=m.get("group_sizes"))
    finally:
        progress.close()
    summary = res.summary()
    if res.success and (alike := text_similarity_of(res)):
        summary["text_similarity"] = alike
    interrupted = bool(res.solver.get("interrupted"))
    if args.verbose:
        print_plans(res)
    if not res.success:
        _print_failure(res, summary, args.json)
        return EXIT_INTERRUPTED if interrupted else EXIT_INFEASIBLE
    # Render every output first, then write them all at once: a failure leaves no
    # partial set behind.
    outputs = [(args.out, res.groups.to_csv(index=False, lineterminator="\n"))]
    if args.summary:
        outputs.append((args.summary, dumps_json(summary) + "\n"))
    if args.report:
        from ..report import render_report

        outputs.append((args.report, render_report(res)))
    write_all(outputs, stdout_ok=True)
    if args.json:
        print(dumps_json(summary))
    elif not args.quiet:
        names = ", ".join("standard output" if p == STDOUT else str(p) for p, _ in outputs)
        print(format_summary(res, names, summary.get("text_similarity")),
              file=sys.stderr if to_stdout else sys.stdout)
    return EXIT_INTERRUPTED if interrupted else EXIT_OK


def print_plans(res) -> None:
    """The solver's plan of every part, on standard error (``--verbose``)."""
    plans = res.plans
    for label, plan in plans:
        head = f"{label}: " if len(plans) > 1 else ""
        print(f"{head}{plan}", file=sys.stderr)


def _print_failure(res, summary: dict, as_json: bool) -> None:
    """No valid grouping: the message's head and each reason once, on stderr."""
    head = res.message.split(": ", 1)[0].rstrip(".") if res.reasons else res.message
    if res.solver.get("interrupted"):
        head = f"interrupted (Ctrl-C) before a valid grouping was found. {head}"
    print(f"Error: no valid grouping ({res.status}). {head}{':' if res.reasons else ''}",
          file=sys.stderr)
    for r in res.reasons:
        print(f"  - {r}", file=sys.stderr)
    print(f"{summary['unplaced']} candidates unplaced; nothing was written.", file=sys.stderr)
    if as_json:
        print(dumps_json(summary))


def text_similarity_of(res) -> dict:
    """:func:`peermatch.quality.text_similarity` of a result ({} without text columns)."""
    from ..quality import text_similarity

    if res.features is None or not getattr(res.features, "texts", None):
        return {}
    return text_similarity(res.features, res.labels, res.weights.columns)


def format_summary(res, out: str, text: dict | None = None) -> str:
    """The short human summary printed after a successful match (``text``: the
    :func:`text_similarity_of` the result, a line per text column)."""
    from ..result import describe_sizes

    s = res.summary()
    solver = s.get("solver", {})
    t = s["timings"]
    if solver.get("interrupted"):  # the method is the one asked for: the search was cut
        ran = (f"interrupted after {t.get('total', 0):.1f} s (Ctrl-C; solve "
               f"{t.get('solve', 0):.1f}s), seed {s['seed']}: the best valid grouping "
               "found so far")
    else:
        ran = (f"time {t.get('total', 0):.1f}s (solve {t.get('solve', 0):.1f}s), "
               f"seed {s['seed']}, method {s['method']}")
    lines = [
        f"{s['candidates']} candidates -> {describe_sizes(s['group_sizes'])}; "
        f"status {s['status']}",
        f"score {s['score']:,.2f}"
        + (f", soft penalties {sum(s['penalties'].values()):,.2f}, objective "
           f"{s['objective']:,.2f}" if s.get("penalties") else "")
        + (f" (bound {s['bound']:,.2f})" if s["bound"] is not None else "")
        + f"; worst group mean pair affinity {s['mean_pair_affinity']['worst_group']:.3f}",
        f"floor (worst member's mean affinity to their group) {s['floor']:.3f}"
        + (f"; fairness {fx['level']:g}: floor {fx['floor_reference']:.3f} -> {s['floor']:.3f}"
           f", total {fx['score_change']:+.2%} vs the grouping before the floor phase"
           if (fx := s.get("fairness")) else ""),
        *(f"{name} (text): answers alike {v['within']:.3f} within groups, {v['all']:.3f} "
          "between any two members" for name, v in (text or {}).items()),
        f"hard rules: {'all satisfied' if not s['violations'] else s['violations']}",
        ran,
        *_distributed_line(s),
        f"wrote {out}",
    ]
    if solver.get("compile_wait") and not solver.get("compile_cut"):
        lines.insert(0, f"note: the first {solver['compile_wait']:.1f}s ran the numpy search "
                        "while the solver's kernels compiled (first run on this install)")
    if solver.get("compile_cut"):
        lines.insert(0, "note: the solver's kernels were still compiling (first run on this "
                        "install): the numpy search ran instead; later runs use the cache")
    return "\n".join(lines)


def _distributed_line(s: dict) -> list[str]:
    """Where the work ran, when a Dask scheduler was used."""
    d = s.get("solver", {}).get("distributed")
    if not d:
        return []
    up = (f"start-up {d['startup_s']:.1f}s" if d.get("startup_s") is not None
          else "still starting at the end: solved here")
    return [f"scheduler {d['scheduler']} ({d['workers']} workers, {up}): "
            f"{d.get('tasks', 0)} tasks, {d.get('dropped', 0)} dropped"]
