// The NPS page's charts, from the figures the page carries (also shown as a table without
// JavaScript): the score per period with its 95 % margin of error as a shaded band, and for
// NPS the promoters, passives and detractors per period as stacked percentages.
(function () {
  "use strict";
  var node = document.getElementById("nps-trend-data");
  if (!node || !window.Plotly) { return; }
  var d = JSON.parse(node.textContent);
  var base = { margin: { l: 48, r: 12, t: 8, b: 36 }, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
    font: { family: "system-ui, sans-serif", size: 12 } };
  var config = { displayModeBar: false, responsive: true };
  // periods are categories (a week is its Monday, a month YYYY-MM), named as people read them
  // ("2 Jun 2026", "Jun 2026"): as many names as fit the width, with room made for them
  function axis() {
    var target = document.getElementById("nps-trend");
    var fit = Math.max(2, Math.floor(((target && target.clientWidth) || 600) / 110));
    var step = Math.max(1, Math.ceil(d.x.length / fit));
    var at = [], names = [];
    for (var i = 0; i < d.x.length; i += step) { at.push(d.x[i]); names.push(d.labels[i]); }
    return { type: "category", tickmode: "array", tickvals: at, ticktext: names, tickangle: 0,
      automargin: true };
  }
  var category = axis();
  var legend = { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" };  // above: clear of the axis
  function draw(id, traces, layout) {
    var target = document.getElementById(id);
    if (!target) { return; }
    window.Plotly.newPlot(target, traces, Object.assign({ legend: legend }, base, layout), config);
    target.setAttribute("data-drawn", "true");
  }
  function single() {  // one period has no band to shade: its margin as an error bar
    if (d.x.length !== 1 || d.low[0] === null || d.high[0] === null) { return undefined; }
    return { type: "data", symmetric: false, array: [d.high[0] - d.value[0]],
      arrayminus: [d.value[0] - d.low[0]], color: "rgba(194, 24, 91, 0.5)" };
  }
  draw("nps-trend", [
    { x: d.x, y: d.high, type: "scatter", mode: "lines", line: { width: 0 }, hoverinfo: "skip",
      showlegend: false },
    { x: d.x, y: d.low, type: "scatter", mode: "lines", line: { width: 0 }, fill: "tonexty",
      fillcolor: "rgba(194, 24, 91, 0.15)", name: "95 % margin of error", hoverinfo: "skip" },
    { x: d.x, y: d.value, type: "scatter", mode: "lines+markers", name: d.label,
      line: { color: "#c2185b", width: 2 }, customdata: d.n, text: d.labels,
      error_y: single(), hovertemplate: "%{text}: %{y:.1f} (n = %{customdata})<extra></extra>" }
  ], { xaxis: category, yaxis: { title: { text: d.label }, zeroline: true } });
  if (d.bars) {
    var parts = [["detractors", "#c62828"], ["passives", "#9e9e9e"], ["promoters", "#2e7d32"]];
    draw("nps-mix", parts.map(function (p) {
      return { x: d.x, y: d.bars[p[0]], type: "bar", name: p[0], marker: { color: p[1] },
        text: d.labels, textposition: "none",
        hovertemplate: "%{text}: %{y:.1f} %<extra>" + p[0] + "</extra>" };
    }), { barmode: "stack", xaxis: category,
      yaxis: { title: { text: "% of answers" }, range: [0, 100], ticksuffix: "%" } });
  }
})();
