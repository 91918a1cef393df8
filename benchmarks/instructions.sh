#!/bin/sh
# instructions.sh [BUILD_DIR]: instructions and futex calls per task, which a
# shared, noisy machine cannot disturb (wall time is in gather-bench itself).
#
# For each variant of gather-bench --only, counts the instructions of a run
# at N = 10^4 and 10^5 under callgrind (every thread), and prints the
# marginal cost per task between the two, so that start-up costs cancel
# out. Then counts futex system calls per task at N = 10^5 with strace.
# Each figure is the median (min-max) over RUNS runs (default 5).
# VARIANTS="gather async" measures only those (the ratio needs batched).
#
#   gather     thread tasks, a timeout each (none fires)
#   batched    a raw GThreadPool, results batched back through one source
#   gtask      g_task_run_in_thread
#   async      async tasks, one completion per main-loop iteration
#   async-floor the same operations without gather: one heap of deadlines,
#              a GCancellable and a kept GVariant result each (what the
#              issue's async design needs at the least)
#   naive      a g_timeout_source + GCancellable per operation (10^4 only:
#              at 10^5 only the first 2,000 completions run)
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -eu
build=${1:-_build/default}
bench=$build/benchmarks/gather-bench
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

export LD_LIBRARY_PATH=$build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

count () {  # count VARIANT EXPONENT: total instructions of one run
  valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1.$2" \
    "$bench" --only "$1" -e "$2" -r 1 >/dev/null 2>&1
  callgrind_annotate "$out/cg.$1.$2" 2>/dev/null |
    awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'
}

futexes () {  # futexes VARIANT EXPONENT: futex calls of one run, every thread
  strace -f -c -e trace=futex -o "$out/st.$1" "$bench" --only "$1" -e "$2" -r 1 >/dev/null 2>&1
  awk '/futex/ { print $4; exit }' "$out/st.$1"
}

echo "# instructions.sh: $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
runs=${RUNS:-5}
# stats V1 V2 ...: "median (min-max)" of the values
stats () {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
          if (NR == 1) printf "%s", fmt(m); else printf "%s (%s-%s)", fmt(m), fmt(v[1]), fmt(v[NR]) }
    function fmt(x) { return (x == int(x)) ? sprintf("%d", x) : sprintf("%.3f", x) }'
}
echo "Median (min-max) over $runs runs of each (RUNS=N to change)."
echo
echo "| variant | instructions per task (marginal, N = 10^4 to 10^5) | vs batched (medians) | futex calls per task (N = 10^5) |"
echo "|---|---|---|---|"
batched=""
for variant in ${VARIANTS:-batched gather gtask async async-floor naive}; do
  pers=""; futs=""
  for _ in $(seq "$runs"); do
    if [ "$variant" = naive ]; then
      a=$(count naive 3); b=$(count naive 4)
      pers="$pers $(( (b - a) / 9000 ))"
    else
      a=$(count "$variant" 4); b=$(count "$variant" 5)
      pers="$pers $(( (b - a) / 90000 ))"
    fi
    if command -v strace >/dev/null && [ "$variant" != naive ]; then
      f=$(futexes "$variant" 5)
      futs="$futs $(awk -v f="${f:-0}" 'BEGIN { printf "%.3f", f / 100000 }')"
    fi
  done
  # shellcheck disable=SC2086
  per=$(stats $pers)
  median=${per%% *}
  note=""
  [ "$variant" = naive ] && note=" (N = 10^3 to 10^4)"
  [ "$variant" = batched ] && batched=$median
  ratio=$(awk -v p="$median" -v b="$batched" 'BEGIN { if (b > 0) printf "%.2fx", p / b; else printf "-" }')
  # shellcheck disable=SC2086
  if [ -n "$futs" ]; then f=$(stats $futs); else f="-"; fi
  echo "| $variant | $per$note | $ratio | $f |"
done
