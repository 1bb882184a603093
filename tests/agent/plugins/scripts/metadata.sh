#!/bin/sh
# A metadata plugin: prints the file $METADATA_FILE (JSON, or garbage a test wrote there),
# then notes the finished run in $RUN_LOG.
cat "$METADATA_FILE"
echo run >> "${RUN_LOG:-/dev/null}"
