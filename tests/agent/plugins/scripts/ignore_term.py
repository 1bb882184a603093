#!/usr/bin/env python3
"""Ignores SIGTERM, so only the KILL after the grace period ends it."""

import signal
import sys
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ignoring TERM", flush=True)
while True:
    time.sleep(1)
    sys.stdout.flush()
