// The host and service monitor forms: the metric field offers the names posted in the
// monitor's scope, and a preview graph (drawn by the server) shows the metric over the
// last 6 hours with the warning and critical thresholds as they are typed.
"use strict";

(function () {
  const WAIT_MS = 300;

  function start() {
    const figure = document.getElementById("monitor-preview");
    const form = figure && figure.closest("form");
    const metric = document.getElementById("f-metric");
    if (!form || !metric) return;
    metric.setAttribute("list", "metric-names");
    metric.setAttribute("autocomplete", "off");
    const list = document.getElementById("metric-names");
    const box = figure.querySelector(".preview-graph");
    let timer = null;
    let asked = 0;

    function value(name) {
      const field = form.elements.namedItem(name);
      return field && "value" in field ? field.value : "";
    }

    async function update() {
      const params = new URLSearchParams({ type: figure.dataset.kind, metric: value("metric"),
        service: value("service"), scopes: value("scopes"), excludeScopes: value("excludeScopes"),
        warning: value("warning"), critical: value("critical") });
      if (figure.dataset.kind === "service" && !value("service")) return;
      const id = ++asked;
      const response = await fetch("/ui/data/monitor-preview?" + params, { credentials: "same-origin" });
      if (!response.ok || id !== asked) return;
      const body = await response.json();
      list.replaceChildren(...body.metrics.map((name) => {
        const option = document.createElement("option");
        option.value = name;
        return option;
      }));
      if (body.svg) {
        const doc = new DOMParser().parseFromString(body.svg, "image/svg+xml");
        box.replaceChildren(document.importNode(doc.documentElement, true));
        if (window.sabamonTime) window.sabamonTime.showClocks(box);
      } else {
        box.textContent = "Choose a metric to see it here.";
      }
      figure.dataset.state = "drawn";
      figure.dataset.metrics = String(body.metrics.length);
    }

    form.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(update, WAIT_MS); });
    update();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
