#!/bin/sh
# A metadata plugin: prints the file $METADATA_FILE (JSON, or garbage a test wrote there).
echo run >> "${RUN_LOG:-/dev/null}"
cat "$METADATA_FILE"
