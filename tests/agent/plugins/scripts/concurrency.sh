#!/bin/sh
# Records start and end times (ns) to $RUN_LOG, sleeping in between.
echo "start $(date +%s%N)" >> "$RUN_LOG"
sleep "${SLEEP_SECONDS:-0.2}"
echo "end $(date +%s%N)" >> "$RUN_LOG"
