#!/bin/sh
# Graph meta with a good header and broken JSON.
if [ "$MACKEREL_AGENT_PLUGIN_META" = "1" ]; then
  echo '# mackerel-agent-plugin'
  echo '{"graphs": {"broken": '
  exit 0
fi
echo "broken.value 1 0"
