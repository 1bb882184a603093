#!/bin/sh
# A metric plugin: good lines, malformed ones, and graph meta when asked.
if [ "$MACKEREL_AGENT_PLUGIN_META" = "1" ]; then
  cat <<'META'
# mackerel-agent-plugin version=1
{"graphs": {"sample.load": {"label": "Sample load", "unit": "percentage",
  "metrics": [{"name": "one", "label": "One", "stacked": true}, {"name": "two", "label": "Two"}]},
  "sample.count": {"label": "Count", "metrics": [{"name": "*", "label": "%1"}]}}}
META
  exit 0
fi
now=$(date +%s)
printf 'sample.load.one\t1.5\t%s\n' "$now"
printf 'sample.load.two 2 %s\n' "$now"
printf 'sample.count.a\t3\t%s\n' "$now"
printf 'only.two\t4\n'
printf 'not.a.number\tabc\t%s\n' "$now"
printf '\n'
printf 'skip.me\t5\t%s\n' "$now"
echo "a warning on stderr" >&2
