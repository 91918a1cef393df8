#!/usr/bin/env python3
"""with-users-server.py SERVER -- COMMAND [ARG...]

Starts the seed's HTTP server (examples/http/users-server.c) on a free port
of 127.0.0.1, runs COMMAND with the server's URL as its last argument,
passes its output through, stops the server and exits with COMMAND's
status.

SPDX-License-Identifier: LGPL-2.1-or-later
"""

import subprocess
import sys

server_path = sys.argv[1]
command = sys.argv[sys.argv.index("--") + 1:]

server = subprocess.Popen([server_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
line = server.stdout.readline()
if not line.startswith("PORT "):
    sys.exit(f"with-users-server: the server said “{line.strip()}”, not its port")

run = subprocess.run(command + [f"http://127.0.0.1:{line.split()[1]}"], timeout=120)

server.stdin.close()   # the server exits when its input closes
server.wait(timeout=30)
sys.exit(run.returncode)
