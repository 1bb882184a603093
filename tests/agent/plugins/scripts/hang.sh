#!/bin/sh
# Starts a child that records its pid, then hangs; a timeout must end both.
sleep 300 &
echo $! > "$CHILD_PID_FILE"
echo "partial output"
wait
