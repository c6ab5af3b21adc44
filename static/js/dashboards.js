// Dashboard charts (ECharts, vendored) from the JSON the page carries, and the year picker.
(function () {
  "use strict";

  function readData() {
    const node = document.getElementById("dashboard-charts");
    return node ? JSON.parse(node.textContent) : null;
  }

  function barOption(labels, values, name, extra) {
    const narrow = window.innerWidth < 480;
    return Object.assign({
      grid: { left: 40, right: 12, top: 16, bottom: narrow ? 70 : 40, containLabel: false },
      tooltip: { trigger: "axis" },
      xAxis: {
        type: "category",
        data: labels,
        axisLabel: { interval: 0, rotate: narrow && labels.length > 4 ? 40 : 0, fontSize: 11 },
      },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", name: name, data: values, itemStyle: { color: "#b3261e" } }],
    }, extra || {});
  }

  const builders = {
    quarters: (data) => barOption(data.quarters.labels, data.quarters.values, data.quarters.name),
    ratio: (data) => barOption(data.ratio.labels, data.ratio.values, data.ratio.name),
    collection: (data) => {
      const option = barOption(data.collection.labels, data.collection.values, data.collection.name);
      option.yAxis = { type: "value", max: 100, axisLabel: { formatter: "{value}%" } };
      option.series[0].markLine = { symbol: "none", data: [{ yAxis: data.collection.target }] };
      return option;
    },
  };

  function drawCharts() {
    const data = readData();
    if (!data || typeof echarts === "undefined") return;
    const charts = [];
    document.querySelectorAll("[data-chart]").forEach((box) => {
      const build = builders[box.dataset.chart];
      const canvas = box.querySelector(".chart-canvas");
      if (!build || !canvas || (box.dataset.chart === "collection" && !data.collection)) return;
      const chart = echarts.init(canvas, null, { renderer: "canvas" });
      chart.setOption(build(data));
      charts.push(chart);
    });
    window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));
  }

  document.addEventListener("change", (event) => {
    const select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.requestSubmit();
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawCharts);
  } else {
    drawCharts();
  }
})();
