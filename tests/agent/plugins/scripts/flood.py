#!/usr/bin/env python3
"""Prints FLOOD_MIB mebibytes of metric-like lines on stdout and stderr, then a last line."""

import os
import sys

line = b"flood.value 1 0\n" * 65536  # 1 MiB
for _ in range(int(os.environ.get("FLOOD_MIB", "64"))):
    sys.stdout.buffer.write(line)
    sys.stderr.buffer.write(line[:4096])
sys.stdout.buffer.flush()
sys.stderr.write("done\n")
