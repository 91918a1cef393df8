#!/usr/bin/env python3
"""check-doc-example.py PAGE SOURCE: the first C block of PAGE must be SOURCE.

The "Writing a plugin" page shows the example plugin whole; the tests build
and run that file, so the page's code is the code that works."""

import re
import sys

page, source = sys.argv[1], sys.argv[2]
blocks = re.findall(r"^```c\n(.*?)^```$", open(page).read(), re.S | re.M)
if not blocks:
    print(f"not ok: no C block in {page}")
    sys.exit(1)
if blocks[0] != open(source).read():
    print(f"not ok: the first C block of {page} differs from {source}")
    sys.exit(1)
print(f"ok: {page} shows {source} as it is")
