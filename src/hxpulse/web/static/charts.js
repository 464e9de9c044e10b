// Draw the charts whose data the page carries in <script type="application/json"> blocks.
// Without JavaScript the same figures are on the page as text and tables.
(function () {
  "use strict";
  var layoutBase = { margin: { l: 48, r: 12, t: 8, b: 36 }, paper_bgcolor: "#fff",
    plot_bgcolor: "#fff", font: { family: "system-ui, sans-serif", size: 12 } };
  var config = { displayModeBar: false, responsive: true };
  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  function draw(id, traces, layout) {
    var target = document.getElementById(id);
    if (!target || !window.Plotly) { return; }
    window.Plotly.newPlot(target, traces, Object.assign({}, layoutBase, layout || {}), config);
    target.setAttribute("data-drawn", "true");
  }
  var curve = data("pulse-curve-data");
  if (curve) {
    draw("pulse-curve", [
      { x: curve.at, y: curve.pulse, type: "scatter", mode: "lines", name: "Pulse",
        line: { color: "#c2185b", width: 2 } },
      { x: curve.at, y: curve.investments, type: "scatter", mode: "lines", name: "Investments",
        line: { color: "#1e88e5", width: 1, dash: "dot" }, visible: "legendonly" },
      { x: curve.at, y: curve.returns, type: "scatter", mode: "lines", name: "Returns",
        line: { color: "#43a047", width: 1, dash: "dot" }, visible: "legendonly" }
    ], { yaxis: { title: { text: "pulse" }, zeroline: true }, legend: { orientation: "h" } });
  }
  var spread = data("pulse-spread-data");
  if (spread) {
    draw("pulse-spread", [{ x: spread.centres, y: spread.counts, type: "bar",
      marker: { color: spread.colours } }],
      { xaxis: { title: { text: "pulse now" } }, yaxis: { title: { text: "customers" } },
        bargap: 0.05 });
  }
  var value = data("clv-spread-data");
  if (value) {
    draw("clv-spread", [{ x: value.labels, y: value.counts, type: "bar",
      marker: { color: "#1e88e5" } }],
      { xaxis: { title: { text: "lifetime value, next 12 months" }, type: "category" },
        yaxis: { title: { text: "customers" } }, bargap: 0.05, margin: { l: 48, r: 12, t: 8, b: 90 } });
  }
})();
