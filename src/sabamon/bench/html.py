"""A fleet run as one self-contained HTML page: the table and inline SVG charts, no
scripts, styles or fonts fetched from anywhere."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from sabamon.bench.fleet import FleetReport
from sabamon.bench.report import COLUMNS, row, table

WIDTH, HEIGHT, MARGIN = 640, 220, 48
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e")

Series = tuple[str, Sequence[tuple[float, float]]]


def line_chart(title: str, x_label: str, y_label: str, series: Sequence[Series]) -> str:
    points = [point for _, values in series for point in values]
    if not points:
        return f"<p>{html.escape(title)}: no data</p>"
    x_max = max(x for x, _ in points) or 1.0
    y_max = max(y for _, y in points) * 1.1 or 1.0
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def at(x: float, y: float) -> str:
        return f"{MARGIN + plot_w * x / x_max:.1f},{HEIGHT - MARGIN - plot_h * y / y_max:.1f}"

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="{WIDTH / 2}" y="16" text-anchor="middle">{html.escape(title)}</text>',
        f'<line x1="{MARGIN}" y1="{HEIGHT - MARGIN}" x2="{WIDTH - MARGIN}" '
        f'y2="{HEIGHT - MARGIN}" stroke="#888"/>',
        f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{HEIGHT - MARGIN}" stroke="#888"/>',
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 10}" text-anchor="middle">'
        f"{html.escape(x_label)} (0–{x_max:g})</text>",
        f'<text x="4" y="{MARGIN - 8}">{html.escape(y_label)} (max {y_max / 1.1:.3g})</text>',
    ]
    for index, (label, values) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(at(x, y) for x, y in values)
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{path}"/>'
        )
        parts.append(
            f'<text x="{WIDTH - MARGIN - 100}" y="{MARGIN + 14 * index}" fill="{colour}">'
            f"{html.escape(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def charts(report: FleetReport) -> list[str]:
    found = []
    offset = 0.0
    latency_p50, latency_p99, rate, errors = [], [], [], []
    for step in report.steps:
        for second in step.timeline:
            x = offset + second["second"]
            latency_p50.append((x, second["p50"] * 1000))
            latency_p99.append((x, second["p99"] * 1000))
            rate.append((x, second["requests"]))
            errors.append((x, second["errors"]))
        offset += step.duration
    found.append(
        line_chart(
            "Latency by second", "seconds", "ms", [("p50", latency_p50), ("p99", latency_p99)]
        )
    )
    found.append(
        line_chart(
            "Requests by second", "seconds", "req/s", [("requests", rate), ("errors", errors)]
        )
    )
    if len(report.steps) > 1:
        by_hosts = [(float(step.hosts), step.latency["p99"] * 1000) for step in report.steps]
        found.append(line_chart("p99 latency by fleet size", "hosts", "ms", [("p99", by_hosts)]))
    return found


def page(report: FleetReport) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row(step)) + "</tr>"
        for step in report.steps
    )
    figures = "".join(f"<figure>{chart}</figure>" for chart in charts(report))
    summary = html.escape(table(report))
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>sabamon bench fleet</title><style>"
        "body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
        "svg text{font:11px sans-serif}pre{background:#f6f6f6;padding:1em}"
        "</style></head><body><h1>sabamon bench fleet</h1>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"{figures}<pre>{summary}</pre></body></html>\n"
    )


def write_html(report: FleetReport, path: Path) -> None:
    path.write_text(page(report), encoding="utf-8")
