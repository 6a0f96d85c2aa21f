/* The donation assistant's small map: a numbered marker per line of the plan (the numbers
   of the list) and a ring at the starting point, over the outlines of the areas concerned,
   drawn from the page's own data so that the map reads without any tiles. */
(function () {
  "use strict";
  var element = document.getElementById("plan-map");
  if (!element || !window.L) return;
  var data = JSON.parse(document.getElementById("plan-map-data").textContent);
  var map = L.map(element, { preferCanvas: true, scrollWheelZoom: false, minZoom: 9, maxZoom: 18 });
  if (data.tiles.url) {
    L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
  }
  L.geoJSON(data.areas, {
    interactive: false,
    style: function (feature) {
      return feature.properties.s
        ? { color: "#4a5562", weight: 1.5, dashArray: "4 4", fillOpacity: 0 }
        : { color: "#0b5c8a", weight: 1, fillColor: "#0b5c8a", fillOpacity: 0.12 };
    },
  }).addTo(map);

  var bounds = L.latLngBounds([]);
  data.lines.forEach(function (line) {
    var marker = L.marker([line.y, line.x], {
      icon: L.divIcon({ className: "plan-marker", html: String(line.n), iconSize: [28, 28] }),
      title: line.label,
      alt: line.label,
      keyboard: true,
    });
    marker.bindTooltip(line.label);
    // A tap on a marker shows its line in the list (above the map on a phone).
    marker.on("click", function () {
      var item = document.getElementById("plan-line-" + line.n);
      if (!item) return;
      item.scrollIntoView({ block: "center" });
      item.focus({ preventScroll: true });
    });
    marker.addTo(map);
    bounds.extend(marker.getLatLng());
  });
  var start = null;
  function startAt(latlng) {
    if (start) {
      start.setLatLng(latlng);
      return;
    }
    start = L.marker(latlng, {
      icon: L.divIcon({ className: "plan-start", iconSize: [20, 20] }),
      title: data.startLabel,
      alt: data.startLabel,
      keyboard: false,
      zIndexOffset: -100,
    });
    start.bindTooltip(data.startLabel).addTo(map);
  }
  if (data.start) {
    startAt([data.start[1], data.start[0]]);
    bounds.extend(start.getLatLng());
  }
  // A tap elsewhere on the map moves the starting point there: the ask form (collapsed
  // above the plan) gets its coordinates instead of a kelurahan, and a button asks again.
  var form = document.getElementById("assistant-form");
  var again = document.getElementById("plan-from-here");
  if (form && again) {
    map.on("click", function (event) {
      form.elements.lon.value = event.latlng.lng.toFixed(5);
      form.elements.lat.value = event.latlng.lat.toFixed(5);
      if (form.elements.start) form.elements.start.value = "";
      startAt(event.latlng);
      again.hidden = false;
      element.dataset.start = "1";
    });
  }
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [28, 28], maxZoom: 15 });
  } else {
    map.setView([-6.2, 106.83], 11);
  }
  // What the browser tests wait for and count.
  element.dataset.markers = String(data.lines.length);
  element.dataset.start = data.start ? "1" : "0";
  element.dataset.ready = "1";
})();
