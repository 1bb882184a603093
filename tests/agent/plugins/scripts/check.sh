#!/bin/sh
# A check plugin: prints $CHECK_MESSAGE (default "status <code>") and exits with $CHECK_EXIT.
code=${CHECK_EXIT:-0}
if [ -n "$CHECK_EXIT_FILE" ]; then code=$(cat "$CHECK_EXIT_FILE"); fi
echo "${CHECK_MESSAGE:-status $code}"
exit "$code"
