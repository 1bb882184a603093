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

  function start() {
    document.querySelectorAll("time[datetime]").forEach(show);
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

  window.sabamonTime = { zone: zone };
  document.documentElement.dataset.timeZone = zone;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
