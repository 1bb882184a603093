#!/usr/bin/env bash
# System packages the tests drive: Debian's chromium (Playwright's browser), the
# monitoring-plugins Nagios checks and VictoriaMetrics single-node (the tests start their own
# instance on loopback with a scratch data folder). Installed only when missing.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/lib/nagios/plugins/check_dummy ] || missing+=(monitoring-plugins-basic)
command -v sudo >/dev/null || missing+=(sudo)
command -v victoria-metrics >/dev/null || missing+=(victoria-metrics)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
