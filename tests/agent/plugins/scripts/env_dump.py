#!/usr/bin/env python3
"""Prints the environment variables a test asks about, one `NAME=value` per line."""

import os
import sys

for name in sys.argv[1:]:
    print(f"{name}={os.environ.get(name, '<unset>')}")
