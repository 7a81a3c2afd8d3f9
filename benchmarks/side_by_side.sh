#!/usr/bin/env bash
# Two checkouts of peermatch side by side in one run, one core each: MDGPLIB at the
# literature limits (n = 120 and 240) and benchmarks/at_scale.py at 1,000 / 10 s and
# 5,000 / 30 s on seeds 0-2. How a refactor shows it changed neither speed nor quality.
#
# usage: benchmarks/side_by_side.sh BEFORE_TREE AFTER_TREE OUT_DIR [MDGPLIB_FOLDER]
#   e.g. git worktree add ../before <commit>
#        benchmarks/side_by_side.sh ../before . out/side_by_side
# PYTHON (default .venv/bin/python of this checkout) runs both; AFTER_EXTRA adds options
# to the after tree's at_scale run (e.g. AFTER_EXTRA=--free-sizes when sizes became even
# by default in between).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
before=$(cd "$1" && pwd); after=$(cd "$2" && pwd); out=$(mkdir -p "$3" && cd "$3" && pwd)
folder=${4:-$here/../shared/benchmarks/mdgplib}
py=${PYTHON:-$here/.venv/bin/python}
files=$(ls "$folder"/*_n120_*.txt "$folder"/*_n240_*.txt)
run() { # tree core tag extra
  local tree=$1 core=$2 tag=$3 extra=$4
  ( cd "$tree" && export PYTHONPATH="$tree";
    "$py" -c "from peermatch.solve.local import warm_up; warm_up()"
    # shellcheck disable=SC2086
    taskset -c "$core" "$py" benchmarks/mdgplib.py $files --time-limit literature \
        --out "$out/${tag}_mdgplib.csv" > "$out/${tag}_mdgplib.log" 2>&1
    # shellcheck disable=SC2086
    taskset -c "$core" "$py" benchmarks/at_scale.py --sizes 1000:10 5000:30 --seeds 0 1 2 \
        $extra --out "$out/${tag}_at_scale.json" > "$out/${tag}_at_scale.log" 2>&1 )
}
run "$before" 0 before "" &
run "$after" 1 after "${AFTER_EXTRA:-}" &
wait
echo "wrote $out"
