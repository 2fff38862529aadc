// 民情 dashboard charts (ECharts, served from static/vendor by `make`): topics this period against the last,
// and reports by place — on map tiles (Leaflet) when MAP_TILE_URL is set, else on a plain longitude/latitude
// layout where a bigger dot means more reports nearby.
(function () {
  var data = JSON.parse(document.getElementById("minqing-data").dataset.chart);
  if (window.echarts && data.topics.length) {
    var topics = echarts.init(document.getElementById("topics-chart"));
    var words = data.topics.map(function (t) { return t.word; }).reverse();
    topics.setOption({
      tooltip: { trigger: "axis" }, legend: { data: ["本期", "上期"], top: 0, right: 0 },
      grid: { left: 80, right: 20, top: 30, bottom: 20 },
      xAxis: { type: "value", minInterval: 1 }, yAxis: { type: "category", data: words },
      series: [
        { name: "本期", type: "bar", data: data.topics.map(function (t) { return t.count; }).reverse(), itemStyle: { color: "#c8161d" } },
        { name: "上期", type: "bar", data: data.topics.map(function (t) { return t.previous; }).reverse(), itemStyle: { color: "#9e9e9e" } }
      ]
    });
  }
  var box = document.getElementById("map-chart");
  if (!data.points.length) { box.textContent = "本期没有带坐标的反映"; box.style.height = "auto"; return; }
  if (data.tiles && window.L) {
    var map = L.map(box);
    L.tileLayer(data.tiles.replace("{key}", encodeURIComponent(data.tile_key)), { attribution: data.attribution }).addTo(map);
    var bounds = [];
    data.points.forEach(function (p) {
      L.circleMarker([p.lat, p.lng], { radius: 6, color: "#c8161d" }).bindTooltip(p.number + " " + p.title).addTo(map);
      bounds.push([p.lat, p.lng]);
    });
    map.fitBounds(bounds, { maxZoom: 15, padding: [20, 20] });
    return;
  }
  if (!window.echarts) return;
  var cells = {};
  data.points.forEach(function (p) {  // density: reports within ~100 m share a dot
    var key = p.lng.toFixed(3) + "," + p.lat.toFixed(3);
    (cells[key] = cells[key] || { lng: p.lng, lat: p.lat, n: 0, titles: [] }).n += 1;
    cells[key].titles.push(p.number + " " + p.title);
  });
  var dots = Object.keys(cells).map(function (k) { var c = cells[k]; return { value: [c.lng, c.lat, c.n], titles: c.titles }; });
  echarts.init(box).setOption({
    tooltip: { formatter: function (p) { return p.data.titles.slice(0, 5).join("<br>") + (p.data.value[2] > 5 ? "<br>…" : ""); } },
    xAxis: { type: "value", scale: true, name: "经度" }, yAxis: { type: "value", scale: true, name: "纬度" },
    series: [{ type: "scatter", data: dots, itemStyle: { color: "#c8161d", opacity: 0.7 },
      symbolSize: function (v) { return 8 + 6 * Math.sqrt(v[2]); } }]
  });
})();
