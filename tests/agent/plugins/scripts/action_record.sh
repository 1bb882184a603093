#!/bin/sh
# A check action: appends the variables the agent passes to $ACTION_LOG, one line per run.
printf '%s|%s|%s\n' "$MACKEREL_STATUS" "$MACKEREL_PREVIOUS_STATUS" "$MACKEREL_CHECK_MESSAGE" >> "$ACTION_LOG"
