// One time zone on every page: the user's choice (kept in this browser), by default the
// browser's own. Server-rendered <time datetime="…Z"> elements are rewritten in it, the
// header names it, and the graphs (charts.js) read `window.sabamonTime.zone`.
"use strict";

(function () {
  const KEY = "sabamon.timeZone";
  const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  let chosen = null;
  try { chosen = localStorage.getItem(KEY); } catch (e) { chosen = null; }
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const zone = chosen && (chosen === "UTC" || zones.includes(chosen)) ? chosen : browserZone;
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

  function start() {
    document.querySelectorAll("time[datetime]").forEach(show);
    document.querySelectorAll("svg text[data-epoch]").forEach(showClock);
    const select = document.getElementById("zone-select");
    if (!select) return;
    const names = ["UTC"].concat(zones.filter((z) => z !== "UTC"));
    if (!names.includes(zone)) names.unshift(zone);
    for (const name of names) {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name === browserZone ? name + " (this browser)" : name;
      option.selected = name === zone;
      select.appendChild(option);
    }
    select.addEventListener("change", () => {
      try { localStorage.setItem(KEY, select.value); } catch (e) { /* private mode: this page only */ }
      location.reload();
    });
  }

  window.sabamonTime = { zone: zone, showClocks: (root) => root.querySelectorAll("text[data-epoch]").forEach(showClock) };
  document.documentElement.dataset.timeZone = zone;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
