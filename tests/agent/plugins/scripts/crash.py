#!/usr/bin/env python3
"""Crashes half way through its output with a traceback."""

print("crash.before 1 0", flush=True)
raise RuntimeError("plugin bug")
