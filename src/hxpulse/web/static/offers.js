// The Offers page's chart: acceptance per offer, the model's arm against the holdout, each
// with its 95 % interval as error bars (the same figures are in the table below it).
(function () {
  "use strict";
  var node = document.getElementById("offers-chart-data");
  var target = document.getElementById("offers-chart");
  if (!node || !target || !window.Plotly) { return; }
  var d = JSON.parse(node.textContent);
  function bars(arm, name, colour) {
    return { x: d.keys, y: d[arm].rate, type: "bar", name: name, marker: { color: colour },
      error_y: { type: "data", symmetric: false, array: d[arm].plus, arrayminus: d[arm].minus },
      hovertemplate: "%{x}: %{y:.1%}<extra>" + name + "</extra>" };
  }
  window.Plotly.newPlot(target, [bars("model", "model", "#c2185b"),
    bars("holdout", "holdout", "#9e9e9e")], {
    barmode: "group", margin: { l: 48, r: 12, t: 8, b: 48 }, paper_bgcolor: "#fff",
    plot_bgcolor: "#fff", font: { family: "system-ui, sans-serif", size: 12 },
    yaxis: { title: { text: "acceptance" }, tickformat: ".0%", rangemode: "tozero" },
    xaxis: { automargin: true }, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" }
  }, { displayModeBar: false, responsive: true });
  target.setAttribute("data-drawn", "true");
})();
