/* The dashboard's coverage map: the needs map's RW geometry (same cached URL), no tiles,
   each RW shaded by its state (open needs / served / both) from #coverage-config. The
   figures are in the table beside it; without JavaScript the map stays hidden. */
(function () {
  "use strict";

  var element = document.getElementById("coverage-map");
  var configElement = document.getElementById("coverage-config");
  if (!element || !configElement || !window.L || !window.topoFeatures) return;
  var config = JSON.parse(configElement.textContent);
  if (!config.geometryUrl) return;
  var COLORS = { open: "#e34a33", served: "#2a9d8f", both: "#6a51a3" };

  element.dataset.loading = "geometry";
  // A picture beside its table (aria-hidden): nothing in it takes keyboard focus (issue 25,
  // axe aria-hidden-focus), so no keyboard handler and no zoom buttons; a pointer can still
  // drag and zoom it.
  var map = L.map(element, {
    preferCanvas: true, minZoom: 9, maxZoom: 16, attributionControl: false,
    keyboard: false, zoomControl: false,
  });
  map.setView([-6.2, 106.83], 10);

  fetch(config.geometryUrl)
    .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(function (topology) {
      var features = window.topoFeatures(topology, "areas");
      var shaded = [];
      var layer = L.geoJSON(features, {
        style: function (feature) {
          var state = config.states[feature.id];
          return {
            weight: state ? 0.6 : 0.2,
            color: state ? "#3d4852" : "#b8c1ca",
            fillColor: state ? COLORS[state] : "#ffffff",
            fillOpacity: state ? 0.85 : 0.6,
          };
        },
        onEachFeature: function (feature, featureLayer) {
          if (config.states[feature.id]) shaded.push(featureLayer);
        },
      }).addTo(map);
      var bounds = shaded.length ? L.featureGroup(shaded).getBounds() : layer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { padding: [8, 8] });
      element.dataset.loading = "";
      element.dataset.shaded = String(shaded.length);
    })
    .catch(function () {
      element.dataset.loading = "failed";
    });
})();
