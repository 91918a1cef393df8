#!/usr/bin/env python3
# run-fuzzer.py FUZZER NAME SOURCE_DIR WORK_DIR MAX_LEN
#
# Runs one libFuzzer harness as a TAP test:
#   - replays every input in SOURCE_DIR/regressions/NAME (one test each):
#     every input that ever crashed a harness stays there for good;
#   - then fuzzes for GATHER_FUZZ_SECONDS (default 60) from the seed corpus
#     SOURCE_DIR/corpus/NAME, growing a corpus in WORK_DIR, and reports the
#     number of inputs run. A crash is saved in WORK_DIR/artifacts-NAME and
#     fails the test with the command that keeps it as a regression input.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import re
import subprocess
import sys

fuzzer, name, source_dir, work_dir, max_len = sys.argv[1:6]
seconds = int(os.environ.get("GATHER_FUZZ_SECONDS", "60"))
regressions = os.path.join(source_dir, "regressions", name)
seeds = os.path.join(source_dir, "corpus", name)
corpus = os.path.join(work_dir, "corpus-" + name)
artifacts = os.path.join(work_dir, "artifacts-" + name) + os.sep
os.makedirs(corpus, exist_ok=True)
os.makedirs(artifacts, exist_ok=True)

inputs = sorted(os.listdir(regressions)) if os.path.isdir(regressions) else []
n = 0
failed = False


def diagnostics(text):
    for line in text.splitlines()[-40:]:
        print("# " + line)


print("1..%d" % (len(inputs) + 1))
for entry in inputs:
    n += 1
    path = os.path.join(regressions, entry)
    run = subprocess.run([fuzzer, "-runs=1", path], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, errors="replace")
    if run.returncode == 0:
        print("ok %d - %s: regression input %s" % (n, name, entry))
    else:
        failed = True
        print("not ok %d - %s: regression input %s" % (n, name, entry))
        diagnostics(run.stdout)

n += 1
command = [fuzzer, "-max_total_time=%d" % seconds, "-timeout=10", "-rss_limit_mb=2560",
           "-max_len=" + max_len, "-print_final_stats=1", "-artifact_prefix=" + artifacts,
           corpus, seeds]
run = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                     errors="replace")
execs = re.search(r"stat::number_of_executed_units:\s*(\d+)", run.stdout)
execs = execs.group(1) if execs else "?"
if run.returncode == 0:
    print("ok %d - %s: fuzzed for %d s, %s inputs, no crash" % (n, name, seconds, execs))
else:
    failed = True
    saved = re.findall(r"Test unit written to (\S+)", run.stdout)
    print("not ok %d - %s: fuzzing failed after %s inputs" % (n, name, execs))
    for path in saved:
        print("# keep it as a regression input: cp %s %s/" % (path, regressions))
    diagnostics(run.stdout)

sys.exit(1 if failed else 0)
