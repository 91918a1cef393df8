#!/bin/sh
# instructions.sh [BUILD_DIR]: instructions and futex calls per task, which a
# shared, noisy machine cannot disturb (wall time is in gather-bench itself).
#
# For each variant of gather-bench --only, counts the instructions of a run
# at N = 10^4 and 10^5 under callgrind (every thread), and prints the
# marginal cost per task between the two, so that start-up costs cancel
# out. Then counts futex system calls per task at N = 10^5 with strace.
#
#   gather     thread tasks, a timeout each (none fires)
#   batched    a raw GThreadPool, results batched back through one source
#   gtask      g_task_run_in_thread
#   async      async tasks, one completion per main-loop iteration
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
echo "| variant | instructions per task (marginal, N = 10^4 to 10^5) | vs batched | futex calls per task (N = 10^5) |"
echo "|---|---|---|---|"
batched=""
for variant in batched gather gtask async naive; do
  if [ "$variant" = naive ]; then
    a=$(count naive 3); b=$(count naive 4)
    per=$(( (b - a) / 9000 ))
    note=" (N = 10^3 to 10^4)"
  else
    a=$(count "$variant" 4); b=$(count "$variant" 5)
    per=$(( (b - a) / 90000 ))
    note=""
  fi
  [ "$variant" = batched ] && batched=$per
  ratio=$(awk -v p="$per" -v b="$batched" 'BEGIN { printf "%.2fx", p / b }')
  if command -v strace >/dev/null && [ "$variant" != naive ]; then
    f=$(futexes "$variant" 5); f=$(awk -v f="${f:-0}" 'BEGIN { printf "%.3f", f / 100000 }')
  else
    f="-"
  fi
  echo "| $variant | $per$note | $ratio | $f |"
done
