#!/bin/sh
# A metric plugin that takes 100 ms, as a typical plugin reading a service's status.
sleep 0.1
echo "bench.sleep.value 1 $(date +%s)"
