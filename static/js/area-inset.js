/* The area page's small map: the area, and its RW when it is a kelurahan. No tiles needed. */
(function () {
  "use strict";
  var element = document.getElementById("area-inset");
  if (!element || !window.L) return;
  var data = JSON.parse(document.getElementById("inset-data").textContent);
  if (!data.area.geometry) { element.hidden = true; return; }
  var map = L.map(element, { preferCanvas: true, zoomControl: false, attributionControl: false,
    dragging: false, scrollWheelZoom: false, doubleClickZoom: false, boxZoom: false, keyboard: false });
  var area = L.geoJSON(data.area, { style: { color: "#0b5c8a", weight: 2, fillColor: "#0b5c8a", fillOpacity: 0.15 } }).addTo(map);
  L.geoJSON({ type: "FeatureCollection", features: data.children }, {
    style: { color: "#0b5c8a", weight: 0.8, fillOpacity: 0 },
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(feature.properties.n);
      layer.on("click", function () { window.location.href = "../" + encodeURIComponent(feature.properties.c) + "/"; });
    },
  }).addTo(map);
  map.fitBounds(area.getBounds(), { padding: [8, 8] });
})();
