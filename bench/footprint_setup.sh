#!/bin/sh
# Installs the baselines of bench/agent_footprint.py, Debian's collectd and
# prometheus-node-exporter, when missing. The bench runs them itself with its own configs, so
# the system daemons the packages set up are stopped and disabled: nothing stays running.
set -eu

need=""
command -v collectd >/dev/null 2>&1 || [ -x /usr/sbin/collectd ] || need="$need collectd-core"
command -v prometheus-node-exporter >/dev/null 2>&1 || need="$need prometheus-node-exporter"

if [ -n "$need" ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $need
    for service in collectd prometheus-node-exporter; do
        if [ -d /run/systemd/system ]; then
            $SUDO systemctl stop "$service" >/dev/null 2>&1 || true
        elif [ -x "/etc/init.d/$service" ]; then
            $SUDO "/etc/init.d/$service" stop >/dev/null 2>&1 || true
        fi
        # Both, so neither systemd nor sysvinit starts it at the next boot.
        if command -v systemctl >/dev/null 2>&1; then
            $SUDO systemctl disable "$service" >/dev/null 2>&1 || true
        fi
        $SUDO update-rc.d "$service" disable >/dev/null 2>&1 || true
    done
fi
