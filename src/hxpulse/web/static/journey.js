// Draw the Journey page's funnel from the data the page carries; without JavaScript the same
// figures are in the table below it.
(function () {
  "use strict";
  var node = document.getElementById("journey-funnel-data");
  var target = document.getElementById("journey-funnel");
  if (!node || !target || !window.Plotly) { return; }
  var data = JSON.parse(node.textContent);
  window.Plotly.newPlot(target, [{
    type: "funnel", y: data.labels, x: data.reached, textinfo: "value+percent previous",
    marker: { color: "#c2185b" }, connector: { line: { color: "#e3e6ec" } }
  }], {
    margin: { l: 120, r: 12, t: 8, b: 24 }, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
    font: { family: "system-ui, sans-serif", size: 12 }
  }, { displayModeBar: false, responsive: true });
  target.setAttribute("data-drawn", "true");
})();
