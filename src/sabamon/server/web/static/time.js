// One time zone on every page: the signed-in user's choice, kept on the server
// (<html data-user-zone>, empty when none), by default the browser's own. Server-rendered
// <time datetime="…Z"> elements are rewritten in it, the header names it, and the graphs
// (charts.js) read `window.sabamonTime.zone`. Choosing another in the header's picker
// posts it (the form around the picker) and comes back to the same view.
"use strict";

(function () {
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const chosen = document.documentElement.dataset.userZone || "";
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  let zone = browserZone;
  if (chosen) {
    try { new Intl.DateTimeFormat("en", { timeZone: chosen }); zone = chosen; } catch (e) { /* unknown here */ }
  }
  const format = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short" });

  function show(element) {
    const moment = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(moment.getTime())) return;
    element.textContent = format.format(moment).replace(",", "");
    element.title = moment.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }

  const clock = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit",
    hourCycle: "h23" });
  const zoneName = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "short" });

  // The clock labels of the server-drawn graphs (svg <text data-epoch>), the last one named.
  function showClock(element) {
    const moment = new Date(Number(element.getAttribute("data-epoch")) * 1000);
    let text = clock.format(moment);
    if (element.getAttribute("data-zone") === "named") {
      const part = zoneName.formatToParts(moment).find((p) => p.type === "timeZoneName");
      text += " " + (part ? part.value : zone);
    }
    element.textContent = text;
  }

  function option(value, label, selected) {
    const element = document.createElement("option");
    element.value = value;
    element.textContent = label;
    element.selected = selected;
    return element;
  }

  function start() {
    document.querySelectorAll("time[datetime]").forEach(show);
    document.querySelectorAll("svg text[data-epoch]").forEach(showClock);
    document.querySelectorAll("[data-browser-zone]").forEach((e) => { e.textContent = browserZone + " (this browser's zone)"; });
    const names = document.getElementById("zone-names");
    if (names) zones.forEach((name) => names.appendChild(option(name, name, false)));
    const select = document.getElementById("zone-select");
    if (!select) return;
    select.appendChild(option("", browserZone + " (this browser)", zone === browserZone && !chosen));
    const listed = ["UTC"].concat(zones.filter((z) => z !== "UTC"));
    if (chosen && !listed.includes(chosen)) listed.unshift(chosen);
    for (const name of listed) select.appendChild(option(name, name, chosen === name));
    select.addEventListener("change", () => {
      const form = document.getElementById("zone-form");
      form.elements.next.value = location.pathname + location.search + location.hash;
      form.submit();
    });
  }

  window.sabamonTime = { zone: zone, showClocks: (root) => root.querySelectorAll("text[data-epoch]").forEach(showClock) };
  document.documentElement.dataset.timeZone = zone;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
