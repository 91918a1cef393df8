#!/usr/bin/env bash
# dev.sh: the two commands the README promises, for a Debian bookworm machine.
#
#   ./dev.sh demo   install what is needed, build, run the seed demo with the
#                   gather command
#   ./dev.sh test   install what is needed, build, run every test: plain,
#                   under valgrind memcheck, with AddressSanitizer and
#                   UndefinedBehaviorSanitizer, and with ThreadSanitizer;
#                   then the libFuzzer harnesses (built with clang in
#                   _build/fuzz), each replaying its regression inputs and
#                   fuzzing for GATHER_FUZZ_SECONDS (60); ends with
#                   "N passed, N failed"
#   ./dev.sh soak [SECONDS]
#                   the randomized stress program for SECONDS (600), plain
#                   and under ThreadSanitizer
#
# Packages are installed with apt-get (after apt-get update) only when some
# are missing, so running it again is quick. Needs root for that step.

set -euo pipefail
cd "$(dirname "$0")"

BUILD=_build

# What building and running the demo needs.
DEMO_PACKAGES=(
  gcc pkg-config meson ninja-build
  libglib2.0-dev libjson-glib-dev gobject-introspection libgirepository1.0-dev valac
  python3-docutils
)
# What the whole test suite needs on top.
TEST_PACKAGES=(
  "${DEMO_PACKAGES[@]}"
  libglib-testing-0-dev valgrind python3 gi-docgen
  gjs python3-gi gir1.2-gtk-4.0 xvfb xauth dbus
  clang libclang-rt-14-dev
  libsoup-3.0-dev gir1.2-soup-3.0
)

say () { printf '\n== %s\n' "$*"; }

install_packages () {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "Debian packages: all installed"
    return
  fi
  say "Installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "dev.sh: installing packages needs root; run as root, or install: ${missing[*]}" >&2
    exit 2
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# configure DIR [meson options...]: set up DIR once, reconfigure afterwards.
configure () {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
}

# run_tests DIR SETUP: run meson test; never stop the script on failures.
run_tests () {
  local dir=$1 setup=$2
  say "Tests: $setup ($dir)"
  meson test -C "$dir" --setup="$setup" --print-errorlogs --num-processes 2 || true
}

# Counts every test in every setup from meson's JSON test logs: each TAP
# subtest ("ok" / "not ok" lines) once, and a test without TAP output once.
# A test that failed without a "not ok" line (a crash, a timeout) counts as
# one more failure.
summarize () {
  python3 - "$@" <<'PY'
import json, re, sys
passed = failed = skipped = 0
failures = []  # (log, test name, what failed, output tail)
def tail(test, n=40):
    text = (test.get("stdout") or "") + (test.get("stderr") or "")
    return "\n".join(text.splitlines()[-n:])
for path in sys.argv[1:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        print(f"missing test log: {path}")
        failed += 1
        continue
    for line in lines:
        test = json.loads(line)
        ok = test["result"] in ("OK", "EXPECTEDFAIL")
        tap = re.findall(r"^(ok|not ok) \d+[^\n]*", test.get("stdout") or "", re.M)
        if not tap:
            if test["result"] == "SKIP":
                skipped += 1
            elif ok:
                passed += 1
            else:
                failed += 1
                failures.append((path, test["name"], test["result"], tail(test)))
            continue
        for line in re.finditer(r"^(ok|not ok) \d+([^\n]*)", test["stdout"], re.M):
            if "# SKIP" in line.group(2):
                skipped += 1
            elif line.group(1) == "ok":
                passed += 1
            else:
                failed += 1
                failures.append((path, test["name"], line.group(0), tail(test)))
        if not ok and not any(t == "not ok" for t in tap):
            failed += 1
            failures.append((path, test["name"], test["result"], tail(test)))
# What failed, again, just above the last line: a CI log is often read
# from its end only.
for path, name, what, out in failures:
    print(f"FAILED {path}: {name}: {what}")
    print("  " + out.replace("\n", "\n  "))
if skipped:
    print(f"{skipped} skipped")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or passed == 0 else 0)
PY
}

# ---- ThreadSanitizer and the stress soak (tests/tsan/, tests/stress/) ----
# A third build, _build/tsan, with clang and -Db_sanitize=thread. Its tests
# run with `meson test --setup=tsan` (tests/tsan/meson.build preloads the
# shim that teaches TSan GLib's locks) and are counted in the summary.
TSAN_PACKAGES=(clang libclang-rt-14-dev)

tsan_build () {
  if [ ! -f "$BUILD/tsan/build.ninja" ]; then
    # No --werror: the gcc builds hold the warnings; clang warns about
    # other things (unused g_autoptr variables) that nobody else sees.
    CC=clang configure "$BUILD/tsan" -Dtests=true -Db_sanitize=thread \
      -Db_lundef=false -Dintrospection=disabled -Dvapi=disabled -Dman=disabled
  else
    configure "$BUILD/tsan"
  fi
  ninja -C "$BUILD/tsan"
  rm -f "$BUILD"/tsan/meson-logs/testlog*.json
}

tsan_test () {
  run_tests "$BUILD/tsan" tsan
}

# ./dev.sh soak [SECONDS] [STRESS OPTIONS...]: the randomized stress program
# (tests/stress/gather-stress.c) for much longer than the test suite runs
# it: SECONDS in all (default 600), half plain, half under TSan, through
# the same meson test and setup as ./dev.sh test. It prints its seed; a
# failure reproduces with the same --seed (see gather-stress --help).
soak () {
  local seconds=${1:-600}
  shift || true
  local args="--seconds=$((seconds / 2)) $*"
  install_packages "${TEST_PACKAGES[@]}" "${TSAN_PACKAGES[@]}"
  configure "$BUILD/default" --werror -Dtests=true
  ninja -C "$BUILD/default"
  tsan_build
  say "Soak: plain, $((seconds / 2)) s"
  meson test -C "$BUILD/default" --suite stress --timeout-multiplier 0 \
    --verbose --test-args "$args"
  say "Soak: ThreadSanitizer, $((seconds / 2)) s"
  meson test -C "$BUILD/tsan" --setup=tsan --suite stress --timeout-multiplier 0 \
    --verbose --test-args "$args"
}
# ---- end of ThreadSanitizer and stress ----

case "${1:-}" in
  demo)
    install_packages "${DEMO_PACKAGES[@]}"
    configure "$BUILD/default" -Dtests=false
    ninja -C "$BUILD/default"
    # The plugin directory must not be writable by others, or it is refused.
    chmod -R go-w "$BUILD/default/plugins"
    say "Demo: gather run --file data/examples/fetch-users.json
   (four users fetched at once; user 3 takes 5 s and times out at 3 s)"
    status=0
    GATHER_PLUGIN_PATH="$PWD/$BUILD/default/plugins" \
      "$BUILD/default/tools/gather" run --file data/examples/fetch-users.json || status=$?
    # 124 means the run failed by a timeout alone: the one the demo is about.
    [ "$status" -eq 0 ] || [ "$status" -eq 124 ]
    ;;

  test)
    install_packages "${TEST_PACKAGES[@]}" "${TSAN_PACKAGES[@]}"
    configure "$BUILD/default" --werror -Dtests=true -Ddocs=true
    configure "$BUILD/sanitize" --werror -Dtests=true -Db_sanitize=address,undefined \
      -Db_lundef=false -Dintrospection=disabled -Dman=disabled
    ninja -C "$BUILD/default"
    ninja -C "$BUILD/sanitize"
    rm -f "$BUILD"/default/meson-logs/testlog*.json "$BUILD"/sanitize/meson-logs/testlog*.json
    run_tests "$BUILD/default" default
    run_tests "$BUILD/default" valgrind
    run_tests "$BUILD/sanitize" sanitize
    tsan_build
    tsan_test
    # The fuzzers: clang and libFuzzer, in a build of their own; only the
    # harnesses and what they link are built.
    CC=clang configure "$BUILD/fuzz" -Dfuzzing=true -Dtests=true \
      -Db_sanitize=address,undefined -Db_lundef=false -Dintrospection=disabled \
      -Dvapi=disabled -Dman=disabled -Ddocs=false
    ninja -C "$BUILD/fuzz" tests/fuzz/fuzz-task-file tests/fuzz/fuzz-task-argument \
      tests/fuzz/fuzz-json-output tests/fuzz/fuzz-plugin-elf-libfuzzer \
      tests/fuzz/fuzz-helper-frames-libfuzzer tests/fuzz/fuzz-run-frame
    rm -f "$BUILD"/fuzz/meson-logs/testlog*.json
    say "Tests: fuzz ($BUILD/fuzz, ${GATHER_FUZZ_SECONDS:-60} s each)"
    meson test -C "$BUILD/fuzz" --suite fuzz --no-rebuild --print-errorlogs \
      --num-processes 2 || true
    say "Summary"
    summarize "$BUILD/default/meson-logs/testlog-default.json" \
              "$BUILD/default/meson-logs/testlog-valgrind.json" \
              "$BUILD/sanitize/meson-logs/testlog-sanitize.json" \
              "$BUILD/tsan/meson-logs/testlog-tsan.json" \
              "$BUILD/fuzz/meson-logs/testlog.json"
    ;;

  soak)
    shift
    soak "$@"
    ;;

  *)
    echo "usage: $0 demo|test|soak [SECONDS]" >&2
    exit 2
    ;;
esac
