// Graphs of a host or service page: one data request per graph, drawn with uPlot.
// The range (1h … 1y or custom) lives in the URL hash; dragging across a graph zooms every
// graph to the selection; a relative range refreshes every minute without a page reload.
"use strict";

(function () {
  const SPANS = { "1h": 3600, "6h": 21600, "1d": 86400, "1w": 604800, "1mo": 2592000, "1y": 31536000 };
  const REFRESH_MS = 60000;
  const HEIGHT = 180;
  const COLORS = ["#2f7ed8", "#e4572e", "#29a36a", "#f3a712", "#8e44ad", "#17becf",
                  "#a0522d", "#d62728", "#7f7f7f", "#bcbd22"];

  // Units ------------------------------------------------------------------------------
  function scaled(value, base, units, digits) {
    let i = 0;
    let v = Math.abs(value);
    while (v >= base && i < units.length - 1) { v /= base; i++; }
    const shown = (value < 0 ? -v : v).toFixed(i === 0 && digits === 0 ? 0 : digits);
    return shown + (units[i] ? " " + units[i] : "");
  }

  function formatValue(unit, value) {
    if (value === null || value === undefined || Number.isNaN(value)) return "—";
    switch (unit) {
      case "bytes": return scaled(value, 1024, ["B", "KiB", "MiB", "GiB", "TiB", "PiB"], 1);
      case "bytes/sec": return scaled(value, 1024, ["B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s"], 1);
      case "bits/sec": return scaled(value, 1000, ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"], 1);
      case "percentage": return value.toFixed(1) + " %";
      case "iops": return value.toFixed(2) + " iops";
      case "seconds": return value.toFixed(2) + " s";
      case "milliseconds": return value.toFixed(1) + " ms";
      case "integer": return scaled(Math.round(value), 1000, ["", "k", "M", "G", "T"], 0);
      default: return Math.abs(value) >= 1000 ? scaled(value, 1000, ["", "k", "M", "G", "T"], 2)
        : String(Number(value.toPrecision(4)));
    }
  }

  // Axis ticks: the same units, short enough for the axis gutter.
  function formatTick(unit, value) {
    if (value === null) return "";
    const short = (v) => String(Number(v.toPrecision(3)));
    switch (unit) {
      case "bytes": case "bytes/sec": case "bits/sec": return formatValue(unit, value);
      case "percentage": return short(value) + " %";
      case "iops": return short(value);
      case "seconds": return short(value) + " s";
      case "milliseconds": return short(value) + " ms";
      default: return Math.abs(value) >= 1000 ? formatValue("integer", value) : short(value);
    }
  }

  // Range in the URL hash: #1d or #from=…&to=… ------------------------------------------
  function now() { return Math.floor(Date.now() / 1000); }

  function readRange() {
    const hash = location.hash.slice(1);
    if (SPANS[hash]) return { span: hash };
    const params = new URLSearchParams(hash);
    const from = Number(params.get("from"));
    const to = Number(params.get("to"));
    if (from > 0 && to > from) return { from: from, to: to };
    return { span: "1d" };
  }

  function bounds(range) {
    if (range.span) { const to = now(); return [to - SPANS[range.span], to]; }
    return [range.from, range.to];
  }

  function writeRange(range) {
    const hash = range.span ? range.span : "from=" + range.from + "&to=" + range.to;
    history.replaceState(null, "", "#" + hash);
  }

  // One graph --------------------------------------------------------------------------
  class Graph {
    constructor(figure) {
      this.figure = figure;
      this.box = figure.querySelector(".plot");
      this.unit = figure.dataset.unit;
      this.plot = null;
      this.view = [0, 0];
      this.signature = "";
    }

    async load(from, to, onZoom) {
      this.figure.dataset.state = "loading";
      const url = this.figure.dataset.src + "?from=" + from + "&to=" + to;
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) { location.assign("/ui/login?next=" + encodeURIComponent(location.pathname)); return; }
      if (!response.ok) { this.fail(response.status); return; }
      const body = await response.json();
      this.view = [body.from, body.to];
      this.draw(body, onZoom);
      this.figure.dataset.from = String(body.from);
      this.figure.dataset.to = String(body.to);
      this.figure.dataset.step = String(body.step);
      this.figure.dataset.points = String(body.times.length);
      this.figure.dataset.state = "drawn";
    }

    fail(status) {
      this.figure.dataset.state = "failed";
      this.box.textContent = "Could not load this graph (HTTP " + status + ").";
    }

    // Stacked series are drawn as running sums, topmost first, so each fill covers the
    // band beneath it; the legend still shows each series' own value.
    draw(body, onZoom) {
      const order = [];
      body.series.forEach((s, i) => { if (s.stacked) order.push(i); });
      const stacked = order.slice();
      order.reverse();
      body.series.forEach((s, i) => { if (!s.stacked) order.push(i); });
      const raw = order.map((i) => body.values[i]);
      const sums = stackSums(body.values, stacked);
      const data = [body.times].concat(order.map((i) => (sums[i] || body.values[i])));
      const signature = order.map((i) => body.series[i].metric).join("|");
      if (this.plot && signature === this.signature) {
        this.plot.setData(data);
        this.raw = raw;
        return;
      }
      if (this.plot) this.plot.destroy();
      this.raw = raw;
      this.signature = signature;
      this.box.textContent = "";
      const unit = this.unit;
      const series = [{}].concat(order.map((i, k) => {
        const spec = body.series[i];
        const color = COLORS[i % COLORS.length];
        return {
          label: spec.label,
          stroke: color,
          width: 1.25,
          fill: spec.stacked ? color + "55" : undefined,
          value: (u, v, si, idx) => formatValue(unit, idx === null ? null : this.raw[k][idx]),
        };
      }));
      const opts = {
        width: Math.max(this.box.clientWidth, 200),
        height: HEIGHT,
        series: series,
        scales: { x: { time: true, range: () => this.view } },
        axes: [{}, { size: 80, values: (u, ticks) => ticks.map((t) => formatTick(unit, t)) }],
        cursor: { drag: { x: true, y: false, setScale: false }, sync: { key: "sabamon" } },
        legend: { live: true },
        hooks: {
          setSelect: [(u) => {
            if (u.select.width < 4) return;
            const from = Math.floor(u.posToVal(u.select.left, "x"));
            const to = Math.ceil(u.posToVal(u.select.left + u.select.width, "x"));
            u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
            if (to - from >= 60) onZoom(from, to);
          }],
        },
      };
      this.plot = new uPlot(opts, data, this.box);
    }

    resize() {
      if (this.plot) this.plot.setSize({ width: Math.max(this.box.clientWidth, 200), height: HEIGHT });
    }
  }

  function stackSums(values, stacked) {
    const sums = {};
    let running = null;
    for (const i of stacked) {
      const column = values[i];
      running = column.map((v, t) => (v === null ? null : v + (running && running[t] !== null ? running[t] : 0)));
      sums[i] = running;
    }
    return sums;
  }

  // The page ---------------------------------------------------------------------------
  function start() {
    const figures = Array.from(document.querySelectorAll("figure.graph[data-src]"));
    if (figures.length === 0 || typeof uPlot === "undefined") return;
    const graphs = figures.map((f) => new Graph(f));
    const label = document.getElementById("range-label");
    const customForm = document.getElementById("custom-range");
    let range = readRange();
    let loads = 0;

    function localInput(seconds) {
      const d = new Date(seconds * 1000);
      return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    }

    async function loadAll() {
      const [from, to] = bounds(range);
      const id = ++loads;
      document.querySelectorAll("#range button[data-span]").forEach((b) => {
        b.setAttribute("aria-pressed", String(b.dataset.span === range.span));
      });
      label.textContent = new Date(from * 1000).toLocaleString() + " – " + new Date(to * 1000).toLocaleString();
      customForm.elements.from.value = localInput(from);
      customForm.elements.to.value = localInput(to);
      await Promise.all(graphs.map((g) => g.load(from, to, zoom).catch(() => g.fail("error"))));
      if (id === loads) {
        document.documentElement.dataset.graphsDrawn = String(id);
        performance.mark("graphs-drawn-" + id);
      }
    }

    function setRange(next) { range = next; writeRange(range); loadAll(); }
    // Every synced graph reports the same selection; act on the first report only.
    function zoom(from, to) {
      if (range.from === from && range.to === to) return;
      setRange({ from: from, to: to });
    }

    document.querySelectorAll("#range button[data-span]").forEach((button) => {
      button.addEventListener("click", () => setRange({ span: button.dataset.span }));
    });
    customForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const from = Math.floor(new Date(customForm.elements.from.value).getTime() / 1000);
      const to = Math.floor(new Date(customForm.elements.to.value).getTime() / 1000);
      if (to > from) setRange({ from: from, to: to });
    });
    window.addEventListener("hashchange", () => { range = readRange(); loadAll(); });
    setInterval(() => { if (range.span && !document.hidden) loadAll(); }, REFRESH_MS);
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => graphs.forEach((g) => g.resize()), 100);
    });
    loadAll();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
