#!/usr/bin/env python3
"""check-example.py EXPECTED -- COMMAND [ARG...]

Runs an example program and checks that its output holds each line of the
file EXPECTED, in order (a line may also appear elsewhere). Prints TAP: one
test per expected line, and one for the exit status.

An expected line "~PREFIX LOW HIGH" is a bound, not text: it matches an
output line that starts with PREFIX followed by a number from LOW to just
under HIGH (for durations, which vary from run to run).

SPDX-License-Identifier: LGPL-2.1-or-later
"""

import subprocess
import sys

expected_file = sys.argv[1]
command = sys.argv[sys.argv.index("--") + 1:]
expected = [line.rstrip("\n") for line in open(expected_file) if line.strip()]

run = subprocess.run(command, capture_output=True, text=True, timeout=120)
lines = run.stdout.splitlines()

print(f"1..{len(expected) + 1}")
ok = run.returncode == 0
print(f"{'ok' if ok else 'not ok'} 1 - {command[0]} exits with 0 (got {run.returncode})")
failures = 0 if ok else 1
position = 0


def matches(line, want):
    if not want.startswith("~"):
        return line.startswith(want)
    prefix, low, high = want[1:].rsplit(" ", 2)
    if not line.startswith(prefix):
        return False
    try:
        value = float(line[len(prefix):].split()[0])
    except (IndexError, ValueError):
        return False
    return float(low) <= value < float(high)


for number, want in enumerate(expected, 2):
    found = next((i for i in range(position, len(lines)) if matches(lines[i], want)), None)
    if found is None:
        failures += 1
        print(f"not ok {number} - output has “{want}” after line {position}")
    else:
        position = found + 1
        print(f"ok {number} - output has “{want}”")

if failures:
    for line in run.stdout.splitlines() + run.stderr.splitlines():
        print(f"# {line}")
sys.exit(1 if failures else 0)
