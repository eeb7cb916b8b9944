// Kiln node console: the charts (uPlot, from /console/series.json) and the log panels' follow and filter.
// Live tables and log lines arrive through htmx's SSE extension; this file only draws and scrolls.
(function () {
  "use strict";

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888";
  }

  function axes(yLabel) {
    var stroke = cssVar("--muted"), grid = cssVar("--line");
    return [
      { stroke: stroke, grid: { stroke: grid }, ticks: { stroke: grid } },
      { stroke: stroke, grid: { stroke: grid }, ticks: { stroke: grid }, label: yLabel, size: 60 }
    ];
  }

  function chartOptions(kind, width) {
    if (kind === "cold") {
      return { title: "Cold starts (s)", width: width, height: 200, axes: axes("seconds"),
        series: [{}, { label: "total", stroke: cssVar("--accent"), width: 2, points: { show: true } },
          { label: "VM boot", stroke: cssVar("--info") , points: { show: true } },
          { label: "configure", stroke: cssVar("--ok"), points: { show: true } }] };
    }
    return { title: "Request latency (ms)", width: width, height: 200, axes: axes("ms"),
      series: [{}, { label: "latency", stroke: cssVar("--info"), paths: function () { return null; },
        points: { show: true, size: 4, fill: cssVar("--info") } }] };
  }

  function columns(kind, data) {
    if (kind === "cold") return [data.cold.t, data.cold.total, data.cold.vm_boot, data.cold.configure];
    return [data.latency.t, data.latency.ms];
  }

  var charts = [];

  function refreshCharts() {
    if (charts.length === 0) return;
    fetch(charts[0].el.dataset.src, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        charts.forEach(function (c) {
          var cols = columns(c.kind, data);
          if (!c.plot) {
            c.el.textContent = "";
            c.plot = new uPlot(chartOptions(c.kind, c.el.clientWidth - 8), cols, c.el);
            c.el.dataset.rendered = "true";
          } else {
            c.plot.setData(cols);
          }
          c.el.dataset.points = String(cols[0].length);
        });
      })
      .catch(function () { /* the next refresh tries again */ });
  }

  function setUpCharts() {
    document.querySelectorAll(".chart[data-src]").forEach(function (el) {
      charts.push({ el: el, kind: el.dataset.kind, plot: null });
    });
    if (charts.length === 0 || typeof uPlot === "undefined") return;
    refreshCharts();
    setInterval(refreshCharts, 5000);
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { if (c.plot) c.plot.setSize({ width: c.el.clientWidth - 8, height: 200 }); });
    });
  }

  function setUpLogs() {
    document.querySelectorAll("section.logs").forEach(function (section) {
      var pre = section.querySelector("pre.log");
      var follow = section.querySelector(".log-follow");
      var select = section.querySelector(".log-streams");
      select.addEventListener("change", function () {
        pre.classList.remove("only-program", "only-stdout", "only-stderr", "only-system");
        if (select.value) pre.classList.add("only-" + select.value);
      });
      pre.addEventListener("htmx:afterSettle", function () {
        if (follow.checked) pre.scrollTop = pre.scrollHeight;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpCharts();
    setUpLogs();
  });
})();
