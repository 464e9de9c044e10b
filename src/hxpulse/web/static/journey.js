// Draw the Journey page's funnel from the data the page carries: per stage, the customers who
// entered it and, of them, those who went on to a higher stage. Without JavaScript the same
// figures are in the table below it.
(function () {
  "use strict";
  var node = document.getElementById("journey-funnel-data");
  var target = document.getElementById("journey-funnel");
  if (!node || !target || !window.Plotly) { return; }
  var data = JSON.parse(node.textContent);
  function bars(name, values, color) {
    return { type: "bar", orientation: "h", name: name, y: data.labels, x: values,
             text: values.map(function (n) { return n.toLocaleString(); }),
             textposition: "outside", textangle: 0, cliponaxis: false,
             marker: { color: color }, hoverinfo: "name+x" };
  }
  window.Plotly.newPlot(target, [
    bars("Entered", data.entered, "#c2185b"),
    bars("Went on", data.went_on, "#f48fb1")
  ], {
    barmode: "group", margin: { l: 120, r: 48, t: 8, b: 24 }, paper_bgcolor: "#fff",
    plot_bgcolor: "#fff", font: { family: "system-ui, sans-serif", size: 12 },
    yaxis: { autorange: "reversed" }, legend: { orientation: "h", y: -0.05 },
    xaxis: { showticklabels: false, showgrid: false, zeroline: true, rangemode: "tozero" }
  }, { displayModeBar: false, responsive: true });
  target.setAttribute("data-drawn", "true");
})();
