"""Graphs drawn on the server: units, round axis ticks and small SVG charts of a metric
with its thresholds, shared by the alert page and the notifications."""
