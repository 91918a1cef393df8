#!/bin/sh
# isolation-instructions.sh [BUILD_DIR]: instructions per trivial isolated
# task (isolate-echo, 8 in flight on 2 helpers), which a shared, noisy
# machine cannot disturb: the owner's thread, gather's helpers thread, the
# other threads of the host, and the helper processes.
#
# Counts a run of gather-bench --only isolated at N = 10^3 and 10^4 under
# callgrind (every thread apart, every helper process too), and prints the
# marginal cost per task between the two, so that start-up costs cancel
# out. Each figure is the median (min-max) over RUNS runs (default 3).
# The owner's thread includes building each task's parameters (a tree of
# five values; gather then serializes them), as a program would.
# BENCH=PATH runs another gather-bench against BUILD_DIR's library and
# helper (to compare builds with the same benchmark).
#
# Then, if strace is there, counts the system calls per task the same way
# (every thread, every helper process): futex calls are the threads
# waiting for each other's locks. strace slows every call, which makes
# such waits likelier than untraced: compare builds, not absolutes.
# PARTS=calls (or PARTS=instructions) measures only that part.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -eu
build=$(cd "${1:-_build/default}" && pwd)
bench=${BENCH:-$build/benchmarks/gather-bench}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

export LD_LIBRARY_PATH=$build/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# Helpers run under callgrind too, each to a file of its own.
cat > "$out/helper" <<EOS
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file=\$GATHER_CG_DIR/helper.%p "$build/lib/gather-helper-1" "\$@"
EOS
chmod +x "$out/helper"

total () {  # total FILE: the instructions callgrind counted in FILE
  callgrind_annotate "$1" 2>/dev/null |
    awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }'
}

# count EXPONENT DIR: runs N = 10^EXPONENT; prints "owner helpers_thread other helpers"
count () {
  mkdir -p "$2"
  GATHER_CG_DIR=$2 GATHER_HELPER=$out/helper \
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$2/host" \
    "$bench" --only isolated -e "$1" -r 1 >/dev/null 2>&1
  owner=0; thread=0; other=0; helpers=0
  for f in "$2"/host-*; do
    n=$(total "$f")
    case $f in
      */host-01) owner=$n ;;
      *) if grep -q "helpers_thread" "$f"; then thread=$n; else other=$((other + n)); fi ;;
    esac
  done
  for f in "$2"/helper.*; do
    helpers=$((helpers + $(total "$f")))
  done
  echo "$owner $thread $other $helpers"
}

# stats V1 V2 ...: "median (min-max)" of the values
stats () {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
          if (NR == 1) printf "%d", m; else printf "%d (%d-%d)", m, v[1], v[NR] }'
}

echo "# isolation-instructions.sh: $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
runs=${RUNS:-3}
parts=" ${PARTS:-instructions calls} "
o=""; t=""; x=""; h=""
case $parts in *" instructions "*)
for r in $(seq "$runs"); do
  set -- $(count 3 "$out/$r.3") $(count 4 "$out/$r.4")
  o="$o $(( ($5 - $1) / 9000 ))"
  t="$t $(( ($6 - $2) / 9000 ))"
  x="$x $(( ($7 - $3) / 9000 ))"
  h="$h $(( ($8 - $4) / 9000 ))"
done
echo "Instructions per task, marginal between N = 10^3 and 10^4, median (min-max) of $runs runs:"
echo
echo "| owner's thread | gather's helpers thread | other threads of the host | helper processes |"
echo "|---|---|---|---|"
echo "| $(stats $o) | $(stats $t) | $(stats $x) | $(stats $h) |"
;; esac

case $parts in *" calls "*) ;; *) exit 0 ;; esac
command -v strace >/dev/null || exit 0

# calls EXPONENT: "futex send recv poll all" system calls of one run
calls () {
  strace -f -c -o "$out/st.$1" env GATHER_HELPER="$build/lib/gather-helper-1" \
    "$bench" --only isolated -e "$1" -r 1 >/dev/null 2>&1
  awk '$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ {
         n[$NF] = $4
       }
       END { printf "%d %d %d %d %d\n", n["futex"], n["sendto"] + n["sendmsg"] + n["write"],
               n["recvfrom"] + n["recvmsg"] + n["read"], n["poll"] + n["ppoll"], n["total"] }' "$out/st.$1"
}

# hundredths: "median (min-max)" of values in hundredths, as decimals
hundredths () {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
          printf "%.2f (%.2f-%.2f)", m / 100, v[1] / 100, v[NR] / 100 }'
}

fu=""; se=""; re=""; po=""; al=""
for r in $(seq "$runs"); do
  set -- $(calls 3) $(calls 4)
  fu="$fu $(( ($6 - $1) * 100 / 9000 ))"
  se="$se $(( ($7 - $2) * 100 / 9000 ))"
  re="$re $(( ($8 - $3) * 100 / 9000 ))"
  po="$po $(( ($9 - $4) * 100 / 9000 ))"
  al="$al $(( (${10} - $5) * 100 / 9000 ))"
done
echo
echo "System calls per task under strace -f, marginal between N = 10^3 and 10^4, median (min-max) of $runs runs:"
echo
echo "| futex | send, write | recv, read | poll | all |"
echo "|---|---|---|---|---|"
echo "| $(hundredths $fu) | $(hundredths $se) | $(hundredths $re) | $(hundredths $po) | $(hundredths $al) |"
