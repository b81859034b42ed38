// The dashboard's charts, drawn by the bundled ECharts from /dashboard/data (the same figures as the
// page's tables). A static file, so the Content-Security-Policy can forbid inline scripts.
(function () {
  "use strict";

  function coverageColor(share) {
    if (share === null || share === undefined) { return "#9e9e9e"; }
    if (share >= 0.9) { return "#2e7d32"; }
    if (share >= 0.6) { return "#f9a825"; }
    return "#c62828";
  }

  function chart(id, option) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    var drawn = window.echarts.init(node, null, { renderer: "canvas" });
    option.animation = false;  // drawn at once: what a click or a print sees is the final chart
    // Tooltips drawn on the canvas: ECharts' HTML tooltips carry inline styles, which the CSP refuses.
    if (option.tooltip) { option.tooltip.renderMode = "richText"; }
    drawn.setOption(option);
    node.setAttribute("data-drawn", "1");
    return drawn;
  }

  function go(href) { if (href) { window.location.href = href; } }

  function narrowTo(param, value) {
    var url = new URL(window.location.href);
    url.searchParams.set(param, value);
    if (param === "region") { url.searchParams.delete("station"); }
    return url.pathname + url.search;
  }

  function draw(box, data) {
    var months = data.months;
    var base = { grid: { left: 60, right: 20, top: 45, bottom: 40 }, tooltip: { trigger: "axis" },
                 xAxis: { type: "category", data: months } };
    chart("chart-picked", Object.assign({}, base, { title: { text: box.getAttribute("data-picked"), textStyle: { fontSize: 13 } },
      yAxis: { type: "value", minInterval: 1 }, series: [{ type: "bar", data: data.series.picked_up }] }));
    chart("chart-capacity", Object.assign({}, base, { title: { text: box.getAttribute("data-capacity"), textStyle: { fontSize: 13 } },
      yAxis: { type: "value" }, series: [{ type: "bar", data: data.series.capacity_kw, itemStyle: { color: "#1565c0" } }] }));
    chart("chart-coverage", Object.assign({}, base, { title: { text: box.getAttribute("data-coverage"), textStyle: { fontSize: 13 } },
      yAxis: { type: "value", min: 0, max: 1, axisLabel: { formatter: function (v) { return Math.round(v * 100) + "%"; } } },
      series: [{ type: "line", data: data.series.coverage, connectNulls: false }] }));
    chart("chart-collected", Object.assign({}, base, { title: { text: box.getAttribute("data-collected"), textStyle: { fontSize: 13 } },
      yAxis: { type: "value", minInterval: 1 }, series: [{ type: "bar", data: data.series.collected, itemStyle: { color: "#6d4c41" } }] }));
    chart("chart-healthy", Object.assign({}, base, { title: { text: box.getAttribute("data-healthy"), textStyle: { fontSize: 13 } },
      yAxis: { type: "value", min: 0, max: 1, axisLabel: { formatter: function (v) { return Math.round(v * 100) + "%"; } } },
      series: [{ type: "line", data: data.series.healthy, connectNulls: false, itemStyle: { color: "#2e7d32" } }] }));
    var byStation = Boolean(data.filter.region);
    var groups = byStation ? data.stations : data.regions;
    var groupChart = chart("chart-groups", { grid: { left: 140, right: 20, top: 10, bottom: 30 }, tooltip: {},
      yAxis: { type: "category", data: groups.map(function (g) { return g.label; }) }, xAxis: { type: "value" },
      series: [{ type: "bar", data: groups.map(function (g) {
        return { value: g.picked_up, id: g.id, itemStyle: { color: coverageColor(g.coverage) } };
      }) }] });
    if (groupChart) {
      groupChart.on("click", function (event) {
        go(narrowTo(byStation ? "station" : "region", groups[event.dataIndex].id));
      });
    }
    var points = data.map.points;
    var mapBox = document.getElementById("chart-map");
    if (mapBox && mapBox.getAttribute("data-tiles") && window.L) { tileMap(mapBox, data.map, points); return; }
    var lons = points.map(function (p) { return p.lon; });
    var lats = points.map(function (p) { return p.lat; });
    // A margin of a tenth of the spread (at least ~5 km) so that no point sits on the frame.
    function margin(values) {
      return values.length ? Math.max(0.05, (Math.max.apply(null, values) - Math.min.apply(null, values)) / 10) : 0.05;
    }
    var padX = margin(lons), padY = margin(lats);
    var mapChart = chart("chart-map", {
      tooltip: { formatter: function (p) { return p.name + " · " + p.value[2]; } },
      grid: { left: 60, right: 20, top: 20, bottom: 40 },
      xAxis: { type: "value", scale: true, name: "lon", min: Math.min.apply(null, lons.concat([180])) - padX,
               max: Math.max.apply(null, lons.concat([-180])) + padX, axisLabel: { formatter: function (v) { return v.toFixed(2); } } },
      yAxis: { type: "value", scale: true, name: "lat", min: Math.min.apply(null, lats.concat([90])) - padY,
               max: Math.max.apply(null, lats.concat([-90])) + padY, axisLabel: { formatter: function (v) { return v.toFixed(2); } } },
      series: [{ type: "scatter", data: points.map(function (p) {
        return { name: p.label, value: [p.lon, p.lat, p.count],
                 symbolSize: data.map.kind === "regions" ? Math.min(60, 10 + Math.sqrt(p.count) * 2) : 8,
                 itemStyle: { color: coverageColor(p.coverage) } };
      }) }]
    });
    if (mapChart) {
      mapChart.getDom().setAttribute("data-points", String(points.length));
      mapChart.on("click", function (event) { go(points[event.dataIndex].href); });
    }
  }

  // With an approved tile service (PV_GALLERY_MAP_TILES): Leaflet draws its tiles, the points as circles.
  function tileMap(box, map, points) {
    var drawn = window.L.map(box, { attributionControl: true });
    drawn.attributionControl.setPrefix(false);
    window.L.tileLayer(box.getAttribute("data-tiles"), {
      attribution: box.getAttribute("data-attribution") || "", maxZoom: 18
    }).addTo(drawn);
    var bounds = [];
    points.forEach(function (p) {
      var radius = map.kind === "regions" ? Math.min(30, 6 + Math.sqrt(p.count)) : 5;
      var marker = window.L.circleMarker([p.lat, p.lon], { radius: radius, color: coverageColor(p.coverage),
                                                           fillOpacity: 0.7, className: "map-point" });
      var tip = document.createElement("span");  // text, never HTML: a label is the station's text
      tip.textContent = p.label + " · " + p.count;
      marker.bindTooltip(tip);
      marker.on("click", function () { go(p.href); });
      marker.addTo(drawn);
      bounds.push([p.lat, p.lon]);
    });
    if (bounds.length) { drawn.fitBounds(bounds, { padding: [20, 20], maxZoom: 14 }); } else { drawn.setView([35, 105], 4); }
    box.setAttribute("data-points", String(points.length));
    box.setAttribute("data-drawn", "1");
  }

  function init() {
    var box = document.getElementById("dash-charts");
    if (!box || !window.echarts) { return; }
    fetch(box.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (answer) { if (!answer.ok) { throw new Error(String(answer.status)); } return answer.json(); })
      .then(function (data) { draw(box, data); box.setAttribute("data-ready", "1"); })
      .catch(function (error) { box.setAttribute("data-error", String(error)); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
