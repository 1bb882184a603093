// Graphs of a host or service page: one data request per graph, drawn with uPlot.
// The range (1h … 1y or custom) lives in the URL hash: a zoom (drag across a graph) is a new
// history entry, so Back, reload and a shared link show the same view; double-click or
// "Reset zoom" returns to the range before the zoom. A relative range refreshes every
// minute (pausable), fetching only the points after the newest one shown. Each series has
// one colour per metric name on every page; the legend is a table of last/min/avg/max
// over the visible range with a fixed-width hover column, so nothing moves on hover.
"use strict";

(function () {
  const SPANS = { "1h": 3600, "6h": 21600, "1d": 86400, "1w": 604800, "1mo": 2592000, "1y": 31536000 };
  const REFRESH_MS = 60000;
  const HEIGHT = 180;
  const AXIS_FONT = "12px system-ui, -apple-system, sans-serif";
  const PALETTE = ["#2f7ed8", "#e4572e", "#29a36a", "#f3a712", "#8e44ad", "#17becf",
                   "#a0522d", "#d62728", "#7f7f7f", "#bcbd22", "#1f4e9c", "#e377c2",
                   "#0b8457", "#c77c02", "#5a3d99", "#5f9ea0"];
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zone = (window.sabamonTime && window.sabamonTime.zone) || browserZone;

  // Colours ------------------------------------------------------------------------------
  // A metric name always hashes to the same palette slot; two names of one graph that
  // collide take the next free slot, in the graph's (fixed) series order.
  function hash(text) {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 16777619); }
    return h >>> 0;
  }

  function colours(metrics) {
    const used = new Set();
    return metrics.map((metric) => {
      let slot = hash(metric) % PALETTE.length;
      for (let tries = 0; used.has(slot) && tries < PALETTE.length; tries++) slot = (slot + 1) % PALETTE.length;
      used.add(slot);
      return PALETTE[slot];
    });
  }

  // An opaque tint of a colour: stacked bands cover the ones above them exactly, so each
  // band shows its own legend colour instead of a blend of translucent fills.
  function tint(hex, amount) {
    const n = parseInt(hex.slice(1), 16);
    const mix = (c) => Math.round(c + (255 - c) * amount);
    return "rgb(" + mix(n >> 16) + "," + mix((n >> 8) & 255) + "," + mix(n & 255) + ")";
  }

  // Units ------------------------------------------------------------------------------
  const BINARY = { "bytes": ["B", "KiB", "MiB", "GiB", "TiB", "PiB"],
                   "bytes/sec": ["B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s", "PiB/s"] };

  function scaled(value, base, units, digits) {
    let i = 0;
    let v = Math.abs(value);
    while (v >= base && i < units.length - 1) { v /= base; i++; }
    const shown = Number((value < 0 ? -v : v).toFixed(i === 0 && digits === 0 ? 0 : digits));
    return String(shown) + (units[i] ? " " + units[i] : "");
  }

  function formatValue(unit, value) {
    if (value === null || value === undefined || Number.isNaN(value)) return "—";
    if (BINARY[unit]) return scaled(value, 1024, BINARY[unit], 1);
    switch (unit) {
      case "bits/sec": return scaled(value, 1000, ["bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"], 1);
      case "percentage": return Number(value.toPrecision(4)) + " %";
      case "iops": return Number(value.toPrecision(4)) + " iops";
      case "seconds": return Number(value.toPrecision(4)) + " s";
      case "milliseconds": return Number(value.toPrecision(4)) + " ms";
      case "integer": return scaled(Math.round(value), 1000, ["", "k", "M", "G", "T"], 2);
      default: return Math.abs(value) >= 1000 ? scaled(value, 1000, ["", "k", "M", "G", "T"], 2)
        : String(Number(value.toPrecision(4)));
    }
  }

  // Round tick steps: 1, 2, 5 × 10ⁿ, and binary steps (1, 2, 4 … × 1024ⁿ) for bytes.
  const DECIMAL_INCRS = [];
  for (let e = -6; e <= 15; e++) for (const m of [1, 2, 5]) DECIMAL_INCRS.push(Number((m * Math.pow(10, e)).toPrecision(1)));
  const INTEGER_INCRS = DECIMAL_INCRS.filter((step) => step >= 1);
  const BINARY_INCRS = [0.25, 0.5];
  for (let p = 0; p <= 5; p++) for (let m = 1; m < 1024; m *= 2) BINARY_INCRS.push(m * Math.pow(1024, p));

  // Range in the URL hash: #1d or #from=…&to=… ------------------------------------------
  function now() { return Math.floor(Date.now() / 1000); }

  function readRange() {
    const hash = location.hash.slice(1);
    if (SPANS[hash]) return { span: hash };
    const params = new URLSearchParams(hash);
    const from = Number(params.get("from"));
    const to = Number(params.get("to"));
    if (from > 0 && to > from) return { from: from, to: to, base: SPANS[params.get("base")] ? params.get("base") : null };
    return { span: "1d" };
  }

  function bounds(range) {
    if (range.span) { const to = now(); return [to - SPANS[range.span], to]; }
    return [range.from, range.to];
  }

  function hashOf(range) {
    if (range.span) return "#" + range.span;
    return "#from=" + range.from + "&to=" + range.to + (range.base ? "&base=" + range.base : "");
  }

  function clock(seconds) {
    return new Date(seconds * 1000).toLocaleString(undefined, { timeZone: zone, year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  }

  // The legend table -------------------------------------------------------------------
  function stats(column) {
    let last = null, min = Infinity, max = -Infinity, sum = 0, n = 0;
    for (const v of column) {
      if (v === null) continue;
      last = v; n++; sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    return n ? { last: last, min: min, avg: sum / n, max: max } : { last: null, min: null, avg: null, max: null };
  }

  function cell(row, text, className) {
    const td = document.createElement("td");
    td.className = className;
    td.textContent = text;
    row.appendChild(td);
    return td;
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
      this.body = null;
    }

    url(from, to, since) {
      return this.figure.dataset.src + "?from=" + from + "&to=" + to + (since ? "&since=" + since : "");
    }

    async fetchJson(url) {
      const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) { location.assign("/ui/login?next=" + encodeURIComponent(location.pathname)); return null; }
      if (!response.ok) { this.fail(response.status); return null; }
      return response.json();
    }

    async load(from, to, onZoom, onReset) {
      this.figure.dataset.state = "loading";
      const body = await this.fetchJson(this.url(from, to));
      if (body === null) return;
      this.show(body, onZoom, onReset);
    }

    // Only the buckets from the newest one shown (it may have grown since) up to `to`.
    async refresh(from, to, onZoom, onReset) {
      const old = this.body;
      if (old === null || old.times.length === 0) return this.load(from, to, onZoom, onReset);
      const since = old.times[old.times.length - 1];
      const tail = await this.fetchJson(this.url(from, to, since));
      if (tail === null) return;
      if (tail.step !== old.step) return this.load(from, to, onZoom, onReset);
      const keep = old.times.findIndex((t) => t >= from);
      const cut = old.times.findIndex((t) => t >= since);
      const start = keep < 0 ? old.times.length : keep;
      const end = cut < 0 ? old.times.length : cut;
      const merged = Object.assign({}, tail, {
        times: old.times.slice(start, Math.max(start, end)).concat(tail.times),
        values: old.values.map((column, i) => column.slice(start, Math.max(start, end)).concat(tail.values[i])),
      });
      this.figure.dataset.refreshedPoints = String(tail.times.length);
      this.show(merged, onZoom, onReset);
    }

    show(body, onZoom, onReset) {
      this.body = body;
      this.view = [body.from, body.to];
      this.draw(body, onZoom, onReset);
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

    // Stacked series are drawn as running sums, topmost first, each filled with an opaque
    // tint of its colour down to the axis, so a lower band covers the upper one's fill.
    draw(body, onZoom, onReset) {
      const order = [];
      body.series.forEach((s, i) => { if (s.stacked) order.push(i); });
      const stacked = order.slice();
      order.reverse();
      body.series.forEach((s, i) => { if (!s.stacked) order.push(i); });
      const palette = colours(body.series.map((s) => s.key || s.metric));
      this.colours = palette;
      const sums = stackSums(body.values, stacked);
      const data = [body.times].concat(order.map((i) => (sums[i] || body.values[i])));
      const signature = order.map((i) => body.series[i].metric).join("|");
      this.order = order;
      if (this.plot && signature === this.signature) {
        this.plot.setData(data);
        this.fillLegend(body);
        return;
      }
      if (this.plot) this.plot.destroy();
      this.signature = signature;
      this.box.textContent = "";
      const unit = this.unit;
      const series = [{}].concat(order.map((i) => {
        const spec = body.series[i];
        return {
          label: spec.label,
          stroke: palette[i],
          width: 1.25,
          fill: spec.stacked ? tint(palette[i], 0.45) : undefined,
        };
      }));
      const measure = document.createElement("canvas").getContext("2d");
      measure.font = AXIS_FONT;
      const opts = {
        width: Math.max(this.box.clientWidth, 200),
        height: HEIGHT,
        series: series,
        // uPlot draws in the browser's zone by itself; another zone costs a conversion per tick
        tzDate: zone === browserZone ? undefined : (ts) => uPlot.tzDate(new Date(ts * 1000), zone),
        scales: { x: { time: true, range: () => this.view } },
        axes: [
          { font: AXIS_FONT },
          {
            font: AXIS_FONT,
            incrs: BINARY[unit] ? BINARY_INCRS : unit === "integer" ? INTEGER_INCRS : DECIMAL_INCRS,
            values: (u, ticks) => ticks.map((t) => formatValue(unit, t)),
            // wide enough for the widest label, so no digit is cut off
            size: (u, values) => {
              if (!values) return 50;
              const widest = Math.max(0, ...values.map((v) => measure.measureText(v).width));
              return Math.ceil(widest) + 18;
            },
          },
        ],
        cursor: { drag: { x: true, y: false, setScale: false }, sync: { key: "sabamon" } },
        legend: { show: false },
        hooks: {
          setSelect: [(u) => {
            if (u.select.width < 4) return;
            const from = Math.floor(u.posToVal(u.select.left, "x"));
            const to = Math.ceil(u.posToVal(u.select.left + u.select.width, "x"));
            u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
            if (to - from >= 60) onZoom(from, to);
          }],
          setCursor: [(u) => this.hover(u.cursor.idx)],
        },
      };
      this.plot = new uPlot(opts, data, this.box);
      this.figure.sabamonPlot = this.plot;  // for the browser tests: axes, splits, sizes
      this.plot.over.addEventListener("dblclick", onReset);
      this.buildLegend(body);
      this.fillLegend(body);
    }

    buildLegend(body) {
      const old = this.figure.querySelector("table.legend");
      if (old) old.remove();
      const table = document.createElement("table");
      table.className = "legend";
      const head = table.createTHead().insertRow();
      for (const name of ["", "cursor", "last", "min", "avg", "max"]) {
        const th = document.createElement("th");
        th.textContent = name;
        if (name) th.className = "num";
        head.appendChild(th);
      }
      const tbody = table.createTBody();
      this.rows = body.series.map((spec, i) => {
        const row = tbody.insertRow();
        row.dataset.metric = spec.metric;
        const name = cell(row, "", "series-name");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.background = spec.stacked ? tint(this.colours[i], 0.45) : this.colours[i];
        swatch.style.borderColor = this.colours[i];
        name.appendChild(swatch);
        name.appendChild(document.createTextNode(spec.label));
        return {
          hover: cell(row, "—", "num hover"), last: cell(row, "", "num last"),
          min: cell(row, "", "num min"), avg: cell(row, "", "num avg"), max: cell(row, "", "num max"),
        };
      });
      this.figure.appendChild(table);
    }

    fillLegend(body) {
      body.series.forEach((spec, i) => {
        const s = stats(body.values[i]);
        const row = this.rows[i];
        for (const key of ["last", "min", "avg", "max"]) row[key].textContent = formatValue(this.unit, s[key]);
      });
    }

    hover(idx) {
      if (!this.body || !this.rows) return;
      this.body.series.forEach((spec, i) => {
        const v = idx === null || idx === undefined ? null : this.body.values[i][idx];
        this.rows[i].hover.textContent = formatValue(this.unit, v);
      });
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
    const resetButton = document.getElementById("reset-zoom");
    const pauseButton = document.getElementById("refresh-toggle");
    const refreshState = document.getElementById("refresh-state");
    let range = readRange();
    let loads = 0;
    let paused = false;

    function localInput(seconds) {
      // the datetime-local fields read and write wall time in the chosen zone
      const parts = {};
      new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(seconds * 1000))
        .forEach((p) => { parts[p.type] = p.value; });
      return parts.year + "-" + parts.month + "-" + parts.day + "T" + parts.hour + ":" + parts.minute;
    }

    function fromLocalInput(text) {
      // the instant whose wall time in `zone` is `text`: guess as UTC, then correct by the offset
      const guess = Date.parse(text + ":00Z") / 1000;
      const shown = Date.parse(localInput(guess) + ":00Z") / 1000;
      return guess - (shown - guess);
    }

    function showRange(from, to) {
      document.querySelectorAll("#range button[data-span]").forEach((b) => {
        b.setAttribute("aria-pressed", String(b.dataset.span === range.span));
      });
      label.textContent = clock(from) + " – " + clock(to) + " (" + zone + ")";
      customForm.elements.from.value = localInput(from);
      customForm.elements.to.value = localInput(to);
      resetButton.hidden = !range.from;
      pauseButton.hidden = !range.span;
      refreshState.hidden = !range.span;
    }

    async function loadAll(incremental) {
      const [from, to] = bounds(range);
      const id = ++loads;
      showRange(from, to);
      await Promise.all(graphs.map((g) => (incremental ? g.refresh(from, to, zoom, reset) : g.load(from, to, zoom, reset))
        .catch(() => g.fail("error"))));
      if (id === loads) {
        document.documentElement.dataset.graphsDrawn = String(id);
        refreshState.textContent = (paused ? "paused" : "refreshes every minute") + " · updated " +
          clock(now()).split(", ").pop();
        performance.mark("graphs-drawn-" + id);
      }
    }

    function go(next, push) {
      range = next;
      const hash = hashOf(range);
      if (push) history.pushState(null, "", hash); else history.replaceState(null, "", hash);
      loadAll(false);
    }
    // Every synced graph reports the same selection; act on the first report only.
    function zoom(from, to) {
      if (range.from === from && range.to === to) return;
      go({ from: from, to: to, base: range.span || range.base || null }, true);
    }
    function reset() {
      if (!range.from) return;
      go({ span: range.base || "1d" }, true);
    }

    document.querySelectorAll("#range button[data-span]").forEach((button) => {
      button.addEventListener("click", () => go({ span: button.dataset.span }, true));
    });
    resetButton.addEventListener("click", reset);
    pauseButton.addEventListener("click", () => {
      paused = !paused;
      pauseButton.setAttribute("aria-pressed", String(paused));
      pauseButton.textContent = paused ? "Resume refresh" : "Pause refresh";
      refreshState.textContent = paused ? "paused" : "refreshes every minute";
    });
    customForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const from = fromLocalInput(customForm.elements.from.value);
      const to = fromLocalInput(customForm.elements.to.value);
      if (to > from) go({ from: from, to: to, base: range.span || range.base || null }, true);
    });
    function followUrl() {
      const next = readRange();
      if (hashOf(next) === hashOf(range)) return;
      range = next;
      loadAll(false);
    }
    window.addEventListener("popstate", followUrl);
    window.addEventListener("hashchange", followUrl);
    setInterval(() => { if (range.span && !paused && !document.hidden) loadAll(true); }, REFRESH_MS);
    window.sabamonRefreshNow = () => loadAll(true);  // lets the browser tests skip the minute
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => graphs.forEach((g) => g.resize()), 100);
    });
    loadAll(false);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
