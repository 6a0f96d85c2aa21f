/* The needs map: Leaflet with the Canvas renderer, geometry and need state fetched
   separately so that filtering re-shades the map without reloading any geometry. */
(function () {
  "use strict";

  var element = document.getElementById("needs-map");
  if (!element || !window.L) return;
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var t = config.strings;
  var lang = config.lang === "en" ? "en" : "id";
  var numberFormat = new Intl.NumberFormat(lang === "en" ? "en" : "id-ID");
  var compactFormat = new Intl.NumberFormat(lang === "en" ? "en" : "id-ID", { notation: "compact", maximumFractionDigits: 1 });
  // The needs' colours and fill opacity come from the page (locations.map_palette), where a
  // test checks that each class is 3:1 from its neighbour and from "no open need" as drawn.
  var palette = config.palette;
  var COLORS = palette.needClasses;
  var NO_NEED = palette.noNeed;
  var NO_RESIDENTS = palette.noResidents;
  // Indicator layers get their own (blue) classes from the same palette, so they are not read
  // as needs; as many classes as can be told apart at 3:1 (two), so none is colour-cycled.
  var INDICATOR_COLORS = palette.indicatorClasses;
  var NO_DATA = palette.noData;

  // zoomSnap 0.25: the first view fits the city to the map box (an integer zoom would leave
  // it as small as half the box on a phone); the buttons still zoom by whole steps.
  var map = L.map(element, { preferCanvas: true, zoomControl: false, zoomSnap: 0.25, minZoom: 9, maxZoom: 18 });
  // Leaflet's control texts in the page's language (data attributes the template translates).
  L.control.zoom({ zoomInTitle: element.dataset.zoomInTitle, zoomOutTitle: element.dataset.zoomOutTitle }).addTo(map);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com" title="' + escapeHtml(element.dataset.leafletTitle) + '">Leaflet</a>');
  var renderer = L.canvas({ padding: 0.2, tolerance: 3 });
  map.setView([-6.2, 106.83], 11);

  // The base map comes once the areas' geometry is in and the view is set: on a slow phone
  // connection its tiles would otherwise share the link with the data the map needs first,
  // and be fetched twice (at the default view, then at the fitted one).
  var tiles = null, tilesWait = false;
  function showTiles() {
    if (tiles || tilesWait || !config.tiles.url) return;
    tiles = L.tileLayer(config.tiles.url, { attribution: config.tiles.attribution, maxZoom: 19 }).addTo(map);
  }

  var form = document.getElementById("map-filters");
  var legend = document.getElementById("map-legend");
  var panel = document.getElementById("area-panel");
  var status = document.getElementById("map-status");
  var geometryCache = {};
  var state = { level: null, layer: null, byCode: {}, data: null, breaks: [], highlighted: null, selected: null,
    indicator: null, indicatorData: null, indicatorColumn: 0 };
  var indicatorCache = {};
  var layerSelect = document.getElementById("f-layer");

  // Adopted areas (commitments.adoption.mapdata): a dashed outline on a white casing, drawn in
  // a pane of its own above the areas, so it shows over every fill (dark dashes on white:
  // far above 3:1 whatever lies under them) and never takes the areas' taps or tooltips.
  var adoption = { url: element.dataset.adoptedUrl, data: null, asked: false, layer: null, shown: 0 };
  map.createPane("adopted");
  map.getPane("adopted").style.zIndex = 450;
  map.getPane("adopted").style.pointerEvents = "none";
  var adoptedRenderer = L.canvas({ pane: "adopted", padding: 0.2 });
  var ADOPTED_CASING = { color: "#ffffff", weight: 5, opacity: 1, fill: false, interactive: false };
  var ADOPTED_DASH = { color: "#111111", weight: 2.5, opacity: 1, dashArray: "6 4", fill: false, interactive: false };

  function layerConfig(level) {
    return config.layers.filter(function (l) { return l.level === level; })[0];
  }

  function metric() { return form.elements.metric.value; }
  function metricIndex() { return state.data ? state.data.fields.indexOf(metric()) : -1; }

  function formName(index) {
    var entry = state.data && state.data.forms[index];
    if (!entry) return "";
    return lang === "en" ? entry[1] : entry[0];
  }

  // Strings come as [singular, plural]; Indonesian and English need no other forms.
  function plural(forms, count) {
    return forms[count === 1 ? 0 : 1].replace("%(count)s", numberFormat.format(count));
  }

  function formatMetric(value) {
    if (metric() === "value") return (lang === "en" ? "IDR " : "Rp ") + compactFormat.format(value);
    return numberFormat.format(value);
  }

  function computeBreaks() {
    var i = state.metricIndex = metricIndex(), values = [];
    Object.keys(state.data.areas).forEach(function (code) {
      var v = state.data.areas[code][i];
      if (v > 0) values.push(v);
    });
    values.sort(function (a, b) { return a - b; });
    var breaks = [];
    for (var k = 1; k < COLORS.length; k++) {
      var q = values[Math.floor((values.length * k) / COLORS.length)];
      if (q !== undefined && (breaks.length === 0 || q > breaks[breaks.length - 1])) breaks.push(q);
    }
    state.breaks = breaks;
  }

  // --- indicator layers: shade by a statistic instead of the needs ---
  function indicatorValue(code) {
    var row = state.indicatorData && state.indicatorData.areas[code];
    var v = row ? row[state.indicatorColumn] : null;
    return v === null || v === undefined ? null : v;
  }

  // Categories (flood states 0-4) in ordered runs, one colour per run, when there are more
  // categories than colours: runs as equal as can be, the higher runs taking any extra
  // category (five flood states: 0-1, 2-4). state.categoryRuns[c]: the run of category c.
  function categoryRuns(count) {
    var runs = Math.min(count, INDICATOR_COLORS.length), run = [];
    for (var c = 0; c < count; c++) run.push(runs - 1 - Math.floor(((count - 1 - c) * runs) / count));
    return run;
  }

  function computeIndicatorBreaks() {
    var data = state.indicatorData, values = [];
    state.categoryRuns = categoryRuns(data.classes.length);
    if (data.classes.length) { state.breaks = []; return; }
    Object.keys(data.areas).forEach(function (code) {
      var v = indicatorValue(code);
      if (v !== null) values.push(v);
    });
    values.sort(function (a, b) { return a - b; });
    // Breaks at quantiles of the areas with data, one class per colour.
    var n = INDICATOR_COLORS.length, breaks = [];
    for (var k = 1; k < n; k++) {
      var q = values[Math.floor((values.length * k) / n)];
      if (q !== undefined && (breaks.length === 0 || q > breaks[breaks.length - 1])) breaks.push(q);
    }
    state.breaks = breaks;
  }

  function indicatorColor(code) {
    var v = indicatorValue(code);
    if (v === null) return NO_DATA;
    var classes = state.indicatorData.classes;
    if (classes.length) {
      for (var c = 0; c < classes.length; c++) if (classes[c][0] === v) return INDICATOR_COLORS[state.categoryRuns[c]];
      return NO_DATA;
    }
    var cls = 0;
    while (cls < state.breaks.length && v >= state.breaks[cls]) cls++;
    return INDICATOR_COLORS[cls];
  }

  // Legend and tooltip figures: whole numbers from 100 up (71.994 jiwa/km², not 71.993,81).
  function indicatorNumber(v) {
    return Math.abs(v) >= 100 ? numberFormat.format(Math.round(v)) : numberFormat.format(v);
  }

  function indicatorLabel(v) {
    var classes = state.indicatorData.classes;
    for (var c = 0; c < classes.length; c++) if (classes[c][0] === v) return classes[c][1];
    return indicatorNumber(v) + " " + state.indicatorData.unit;
  }

  function drawIndicatorLegend(shaded) {
    var data = state.indicatorData, rows = [];
    if (data.classes.length) {
      // One row per run of categories: "label A – label B", or the label of a run of one.
      state.categoryRuns.forEach(function (run, c) {
        if (state.categoryRuns[c + 1] === run) return;  // not the run's last category
        var first = state.categoryRuns.indexOf(run);
        var label = escapeHtml(data.classes[first][1]) + (first === c ? "" : " – " + escapeHtml(data.classes[c][1]));
        rows.push('<li><span class="swatch" data-color="' + INDICATOR_COLORS[run] + '"></span>' + label + "</li>");
      });
    } else {
      for (var k = 0; k <= state.breaks.length; k++) {
        var lower = k === 0 ? null : state.breaks[k - 1], upper = state.breaks[k];
        var label = lower === null ? "< " + indicatorNumber(upper) : upper === undefined ? "≥ " + indicatorNumber(lower) : indicatorNumber(lower) + " – " + indicatorNumber(upper);
        rows.push('<li><span class="swatch" data-color="' + INDICATOR_COLORS[k] + '"></span>' + label + "</li>");
      }
    }
    rows.push('<li><span class="swatch" data-color="' + NO_DATA + '"></span>' + t.noData + "</li>");
    var titleLang = state.indicator.title_lang ? ' lang="' + escapeHtml(state.indicator.title_lang) + '"' : "";
    legend.innerHTML = "<h2" + titleLang + ">" + escapeHtml(data.title) + '</h2><p class="small" data-role="unit">' +
      escapeHtml(data.unit) + " · " + escapeHtml(state.indicator.period) + "</p><ul>" + rows.join("") + "</ul><p>" +
      plural(t.areasWithData, shaded) +
      '</p><p class="small" data-role="source">' + t.source + ": " + escapeHtml(data.source) + "</p>";
    legend.dataset.layer = state.indicator.indicator;
    // As the map draws them: the fill colour at the fill opacity.
    legend.querySelectorAll(".swatch").forEach(function (swatch) {
      swatch.style.background = asDrawn(swatch.dataset.color);
    });
  }

  // "#rrggbb" at the palette's fill opacity, as a CSS colour.
  function asDrawn(hex) {
    var rgb = [1, 3, 5].map(function (i) { return parseInt(hex.slice(i, i + 2), 16); });
    return "rgba(" + rgb.join(", ") + ", " + palette.fillOpacity + ")";
  }

  function indicatorOn() { return state.indicator && state.indicatorData && state.indicatorData.level === state.level; }

  function loadIndicator() {
    var entry = state.indicator;
    var url = entry.url + "?v=" + config.indicatorsVersion;
    element.dataset.loading = "indicator";
    var pending = indicatorCache[url] ? Promise.resolve(indicatorCache[url]) : fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) { indicatorCache[url] = data; return data; });
    return pending.then(function (data) {
      if (state.indicator !== entry) return;
      state.indicatorData = data;
      state.indicatorColumn = Math.max(0, data.periods.indexOf(entry.period));
      restyle();
      delete element.dataset.loading;
    }).catch(function () { showStatus(t.loadFailed); });
  }

  function setIndicator(index) {
    var entry = index === "" ? null : config.indicators[Number(index)];
    state.indicator = entry || null;
    state.indicatorData = null;
    element.dataset.layer = entry ? entry.indicator : "needs";
    if (!entry) { delete legend.dataset.layer; restyle(); return Promise.resolve(); }
    var ready = Promise.resolve();
    if (entry.level !== state.level) {
      var levelInput = form.querySelector('input[name="level"][value="' + entry.level + '"]');
      if (levelInput) levelInput.checked = true;
      ready = setLevel(entry.level);
    }
    return ready.then(loadIndicator);
  }

  function colorFor(code, props) {
    if (props && props.z) return NO_RESIDENTS;
    if (indicatorOn()) return indicatorColor(code);
    var entry = state.data && state.data.areas[code];
    if (!entry) return NO_NEED;
    var v = entry[state.metricIndex];  // set with the breaks, not read from the form per area
    if (!(v > 0)) return NO_NEED;
    var cls = 0;
    while (cls < state.breaks.length && v >= state.breaks[cls]) cls++;
    return COLORS[Math.min(cls, COLORS.length - 1)];
  }

  function style(feature) {
    var code = feature.id;
    var selected = code === state.selected;
    return {
      renderer: renderer,
      fillColor: colorFor(code, feature.properties),
      fillOpacity: palette.fillOpacity,
      color: selected ? "#0b2a3f" : "#ffffff",
      weight: selected ? 3 : state.level === "rw" ? 0.5 : 1,
      opacity: 1,
    };
  }

  // The class breaks of what the map is shaded by; false while there is nothing to shade by.
  function computeShading() {
    if (indicatorOn()) computeIndicatorBreaks();
    else if (state.data) computeBreaks();
    else return false;
    return true;
  }

  function restyle() {
    if (!state.layer || !computeShading()) return;
    state.layer.eachLayer(function (layer) { layer.setStyle(style(layer.feature)); });
    shadingDone();
  }

  // The layer's styles are current: count the shaded areas and draw the legend.
  function shadingDone() {
    var shaded = 0;
    state.layer.eachLayer(function (layer) {
      var c = layer.options.fillColor;
      if (c !== NO_NEED && c !== NO_DATA && c !== NO_RESIDENTS) shaded++;
    });
    element.dataset.shaded = String(shaded);
    drawAdopted();
    if (indicatorOn()) drawIndicatorLegend(shaded);
    else drawLegend(shaded);
    adoptedLegend();
  }

  function drawLegend(shaded) {
    var rows = [];
    for (var k = 0; k <= state.breaks.length; k++) {
      var lower = k === 0 ? 1 : state.breaks[k - 1];
      var upper = state.breaks[k];
      var label = upper === undefined ? "≥ " + formatMetric(lower) : formatMetric(lower) + " – " + formatMetric(upper);
      rows.push('<li><span class="swatch" data-color="' + COLORS[k] + '"></span>' + label + "</li>");
    }
    rows.push('<li><span class="swatch" data-color="' + NO_NEED + '"></span>' + t.noNeed + "</li>");
    rows.push('<li><span class="swatch" data-color="' + NO_RESIDENTS + '"></span>' + t.noResidents + "</li>");
    var metricLabel = form.elements.metric.options[form.elements.metric.selectedIndex].text;
    legend.innerHTML = "<h2>" + metricLabel + "</h2><ul>" + rows.join("") + "</ul><p>" +
      plural(t.areasShaded, shaded) + "</p>";
    // Colours set through the DOM: the Content-Security-Policy blocks style="" in markup.
    legend.querySelectorAll(".swatch").forEach(function (swatch) {
      swatch.style.background = swatch.dataset.color;
    });
  }

  // The adoptions holding an area, under the program filter if one is chosen.
  function adoptersOf(code) {
    var entries = adoption.data && adoption.data.areas[code];
    if (!entries) return [];
    var program = form.elements.program.value;
    return entries.filter(function (e) { return !program || String(e[2]) === program; });
  }

  function drawAdopted() {
    if (adoption.layer) { map.removeLayer(adoption.layer); adoption.layer = null; }
    adoption.shown = 0;
    if (!state.layer || !adoption.data) return;
    var outlines = [];
    Object.keys(state.byCode).forEach(function (code) {
      if (!adoptersOf(code).length) return;
      var latlngs = state.byCode[code].feature.latlngs;
      outlines.push(new L.Polygon(latlngs, L.extend({ renderer: adoptedRenderer, noClip: true }, ADOPTED_CASING)));
      outlines.push(new L.Polygon(latlngs, L.extend({ renderer: adoptedRenderer, noClip: true }, ADOPTED_DASH)));
      adoption.shown++;
    });
    element.dataset.adopted = String(adoption.shown);
    if (outlines.length) adoption.layer = L.layerGroup(outlines).addTo(map);
  }

  function adoptedLegend() {
    if (!adoption.shown) return;
    var item = document.createElement("p");
    item.className = "legend-adopted";
    var swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = "#ffffff";
    swatch.style.border = "2px dashed #111111";
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(" " + element.dataset.adoptedLabel));
    legend.appendChild(item);
  }

  // Asked once the map is shaded: the needs come first on a slow connection.
  function loadAdopted() {
    if (adoption.asked || !adoption.url) return;
    adoption.asked = true;
    fetch(adoption.url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) { adoption.data = data; restyle(); })
      .catch(function () {});  // the map works without the outlines
  }

  function tooltip(layer) {
    var feature = layer.feature;
    var entry = state.data && state.data.areas[feature.id];
    var html = "<strong>" + escapeHtml(feature.properties.n) + "</strong>";
    var adopters = adoptersOf(feature.id);
    if (adopters.length) {
      html += "<br>" + escapeHtml(element.dataset.adoptedBy) + " " +
        adopters.map(function (e) { return escapeHtml(e[0]); }).join(", ");
    }
    if (feature.properties.z) return html + "<br>" + t.noResidents;
    if (indicatorOn()) {
      var v = indicatorValue(feature.id);
      var titleLang = state.indicator.title_lang;
      return html + "<br>" + (titleLang ? '<span lang="' + escapeHtml(titleLang) + '">' : "<span>") + escapeHtml(state.indicatorData.title) + "</span>: " + (v === null ? t.noData : escapeHtml(indicatorLabel(v)));
    }
    if (!entry) return html + "<br>" + t.noNeed;
    html += "<br>" + escapeHtml(formName(entry[4])) + ": " + numberFormat.format(entry[5]) + " " + t.remaining;
    if (entry[3] > 1) html += "<br>" + plural(t.moreNeeds, entry[3] - 1);
    return html;
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function stateUrl() {
    var params = new URLSearchParams();
    ["program", "form", "priority", "fresh"].forEach(function (name) {
      var v = form.elements[name].value;
      if (v) params.set(name, v);
    });
    params.set("open", document.getElementById("f-open").checked ? "1" : "0");
    params.set("v", config.needsVersion);
    return layerConfig(state.level).state_url + "?" + params.toString();
  }

  // The page names the opening state URL in its head (a preload), so the download starts
  // with the page's; `result` is set once it has arrived.
  function fetchState() {
    var url = stateUrl();
    var pending = fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) { pending.result = { url: url, data: data }; return pending.result; });
    return pending;
  }

  // `pending`: the state already asked for, alongside the geometry.
  function loadState(pending) {
    element.dataset.loading = "state";
    return (pending || fetchState())
      .then(function (result) {
        if (result.data.level !== state.level) return;
        state.data = result.data;
        restyle();
        stateShown(result);
      })
      .catch(function () { showStatus(t.loadFailed); });
  }

  function stateShown(result) {
    element.dataset.stateUrl = result.url;
    delete element.dataset.loading;
    // Shaded and answering taps: what bench/map_phone.py times.
    if (!element.dataset.interactiveAt) element.dataset.interactiveAt = String(Math.round(performance.now()));
    loadAdopted();
  }

  // The features of a level and their bounds (the topology's bbox: [west, south, east, north]).
  function loadGeometry(level) {
    if (geometryCache[level]) return Promise.resolve(geometryCache[level]);
    return fetch(layerConfig(level).geometry_url)
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (topology) {
        geometryCache[level] = decodeAreas(topology, "areas");
        return geometryCache[level];
      });
  }

  // TopoJSON (quantized, delta-encoded arcs) straight to Leaflet's coordinates: each
  // position becomes one L.LatLng, shared by the areas on both sides of a border, where
  // GeoJSON in between (topojson.js) would be converted once more, for each area apart.
  // Returns the features ({id, properties, latlngs}) and their bounds (the topology's bbox).
  function decodeAreas(topology, name) {
    var transform = topology.transform;
    var sx = transform ? transform.scale[0] : 1, sy = transform ? transform.scale[1] : 1;
    var tx = transform ? transform.translate[0] : 0, ty = transform ? transform.translate[1] : 0;
    var arcs = topology.arcs.map(function (arc) {
      var x = 0, y = 0, out = new Array(arc.length);
      for (var i = 0; i < arc.length; i++) {
        if (transform) { x += arc[i][0]; y += arc[i][1]; } else { x = arc[i][0]; y = arc[i][1]; }
        out[i] = new L.LatLng(y * sy + ty, x * sx + tx);
      }
      return out;
    });
    function ring(indexes) {
      var points = [];
      for (var i = 0; i < indexes.length; i++) {
        var index = indexes[i], arc = arcs[index < 0 ? ~index : index], n = arc.length;
        // Consecutive arcs share their joint position: keep it once.
        for (var j = points.length ? 1 : 0; j < n; j++) points.push(arc[index < 0 ? n - 1 - j : j]);
      }
      return points;
    }
    function polygon(rings) { return rings.map(ring); }
    var features = topology.objects[name].geometries.map(function (object) {
      var latlngs = object.type === "Polygon" ? polygon(object.arcs)
        : object.type === "MultiPolygon" ? object.arcs.map(polygon) : null;
      return { type: "Feature", id: object.id, properties: object.properties || {}, latlngs: latlngs };
    });
    var b = topology.bbox;
    return { features: features, bounds: b ? L.latLngBounds([b[1], b[0]], [b[3], b[2]]) : null };
  }

  function onArea(event) { openPanel(event.layer.feature.id); }

  // The first view: the whole city filling the map box, a few pixels from its edges.
  var FIRST_FIT = { animate: false, padding: [6, 6] };

  function setLevel(level) {
    if (!layerConfig(level)) return Promise.resolve();
    if (state.indicator && state.indicator.level !== level && layerSelect) {
      // The indicator has no values at this level: back to the needs.
      layerSelect.value = "";
      setIndicator("");
    }
    state.level = level;
    element.dataset.level = level;
    element.dataset.loading = "geometry";
    // Both downloads at once: on a slow phone connection each round trip counts.
    var pendingState = fetchState();
    pendingState.catch(function () {});  // reported where it is used
    return loadGeometry(level).then(function (geometry) {
      if (state.level !== level) return;
      // The view first, so that the areas are projected and drawn once, at its zoom. The
      // first fit is not animated: nothing on screen to keep continuity with, and a zoom
      // animation still running would undo a view set (by a person or a link) meanwhile.
      if (!state.fitted && geometry.bounds) { map.fitBounds(geometry.bounds, FIRST_FIT); state.fitted = true; }
      showTiles();
      if (state.layer) map.removeLayer(state.layer);
      state.byCode = {};
      // The need state arrived first (it usually does): drawn shaded straight away.
      var ready = pendingState.result && pendingState.result.data.level === level ? pendingState.result : null;
      state.data = ready ? ready.data : null;
      if (ready) computeShading();
      var areas = [];
      geometry.features.forEach(function (feature) {
        if (!feature.latlngs) return;
        // Not clipped to the view (Leaflet skips areas wholly outside it): clipping every
        // area costs more than drawing the few that cross its edge in full.
        var layer = new L.Polygon(feature.latlngs, L.extend(style(feature), { noClip: true }));
        layer.feature = feature;
        state.byCode[feature.id] = layer;
        areas.push(layer);
      });
      state.layer = L.featureGroup(areas);
      // One tooltip and one tap handler for all the areas, not one per area.
      state.layer.bindTooltip(tooltip, { sticky: true, direction: "top" }).on("click", onArea).addTo(map);
      if (!state.fitted) { map.fitBounds(state.layer.getBounds(), FIRST_FIT); state.fitted = true; }
      element.dataset.drawn = String(areas.length);
      if (!ready) return loadState(pendingState);
      shadingDone();
      stateShown(ready);
    }).catch(function () { showTiles(); showStatus(t.loadFailed); });
  }

  function showStatus(message) {
    status.textContent = message;
    status.hidden = !message;
  }

  // On a phone the panel is a bottom sheet over the lower part of the screen.
  var phone = window.matchMedia("(max-width: 700px)");
  var reopen = document.getElementById("panel-reopen");

  // The part of the map, in its own pixels, that neither the panel nor the screen's
  // edges hide: where a chosen area has to be to be seen.
  function visibleBox() {
    var rect = element.getBoundingClientRect();
    var box = { left: 0, top: Math.max(0, -rect.top), right: rect.width, bottom: Math.min(rect.height, window.innerHeight - rect.top) };
    if (!panel.hidden) {
      var p = panel.getBoundingClientRect();
      if (phone.matches) box.bottom = Math.min(box.bottom, p.top - rect.top);
      else box.right = Math.min(box.right, p.left - rect.left);
    }
    return box;
  }

  function centreOf(code) {
    var layer = state.byCode[code];
    return layer && layer.getBounds ? layer.getBounds().getCenter() : null;
  }

  // Pan (never zoom) so that the area's centre sits in the middle of the visible part,
  // unless it is already well inside it.
  function keepInView(code) {
    var centre = centreOf(code);
    if (!centre) return;
    var box = visibleBox(), point = map.latLngToContainerPoint(centre), margin = 24;
    if (point.x > box.left + margin && point.x < box.right - margin && point.y > box.top + margin && point.y < box.bottom - margin) return;
    map.panBy([point.x - (box.left + box.right) / 2, point.y - (box.top + box.bottom) / 2], { animate: false });
  }

  function openPanel(code) {
    // The request first: the round trip is the slow part on a phone.
    var content = fetch(config.panelUrl.replace("__code__", encodeURIComponent(code)), { credentials: "same-origin" });
    var previous = state.selected;
    state.selected = code;
    [previous, code].forEach(function (c) {
      var layer = c && state.byCode[c];
      if (layer) { layer.setStyle(style(layer.feature)); if (c === code) layer.bringToFront(); }
    });
    reopen.hidden = true;
    panel.hidden = false;
    panel.setAttribute("aria-busy", "true");
    if (phone.matches && element.getBoundingClientRect().top < 0) element.scrollIntoView({ block: "start" });
    return content
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        if (state.selected !== code) return;
        panel.innerHTML = html;
        panel.dataset.code = code;
        panel.scrollTop = 0;
        panel.removeAttribute("aria-busy");
        keepInView(code);
        panel.focus({ preventScroll: true });
      })
      .catch(function () { panel.innerHTML = "<p>" + t.loadFailed + "</p>"; });
  }

  panel.addEventListener("click", function (event) {
    if (event.target.closest("[data-close-panel]")) closePanel();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !panel.hidden) closePanel();
  });
  function closePanel() {
    var code = state.selected;
    var title = panel.querySelector("#panel-title");
    state.selected = null;
    panel.hidden = true;
    var layer = code && state.byCode[code];
    if (layer) layer.setStyle(style(layer.feature));
    if (code && title) {
      // One tap brings the sheet back without hunting for the area again.
      reopen.textContent = t.showArea.replace("%(name)s", title.textContent);
      reopen.dataset.code = code;
      reopen.hidden = false;
    }
    element.focus({ preventScroll: true });
  }
  reopen.addEventListener("click", function () { openPanel(reopen.dataset.code); });

  // Filters: a form that also works without JavaScript (the list below the map).
  var programSelect = form.elements.program, formSelect = form.elements.form;
  function syncForms() {
    var program = programSelect.value;
    Array.prototype.forEach.call(formSelect.options, function (option) {
      var visible = !option.value || !program || option.dataset.program === program;
      option.hidden = !visible;
      option.disabled = !visible;
      if (!visible && option.selected) formSelect.value = "";
    });
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "level") { setLevel(event.target.value); return; }
    if (event.target.name === "program") syncForms();
    if (event.target.name === "metric") { restyle(); return; }
    if (event.target.id === "show-sites") { toggleSites(event.target.checked); return; }
    if (event.target.id === "f-layer") { setIndicator(event.target.value); return; }
    loadState();
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); loadState(); });
  var apply = document.getElementById("apply-filters");
  if (apply) apply.hidden = true;
  // On a phone the map comes first: the filters fold away until asked for.
  if (phone.matches) {
    document.getElementById("more-filters").open = false;
  }
  syncForms();

  // Search an area by name or code and fly to it.
  var searchInput = document.getElementById("area-search");
  var results = document.getElementById("search-results");
  var searchTimer = null;
  searchInput.addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(runSearch, 200);
  });
  searchInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      clearTimeout(searchTimer);
      runSearch().then(function (items) { if (items && items.length) chooseResult(items[0]); });
    } else if (event.key === "ArrowDown") {
      var first = results.querySelector("button");
      if (first) { event.preventDefault(); first.focus(); }
    }
  });
  results.addEventListener("keydown", function (event) {
    var item = event.target.closest("li");
    if (!item) return;
    if (event.key === "ArrowDown" && item.nextElementSibling) { event.preventDefault(); item.nextElementSibling.querySelector("button").focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (item.previousElementSibling ? item.previousElementSibling.querySelector("button") : searchInput).focus(); }
  });
  function runSearch() {
    var q = searchInput.value.trim();
    if (q.length < 2) { results.innerHTML = ""; return Promise.resolve([]); }
    return fetch(config.searchUrl + "?q=" + encodeURIComponent(q))
      .then(function (r) { return r.json(); })
      .then(function (data) {
        results.innerHTML = "";
        if (!data.results.length) {
          results.innerHTML = '<li class="muted">' + t.noResults + "</li>";
        }
        data.results.forEach(function (item) {
          var li = document.createElement("li");
          var button = document.createElement("button");
          button.type = "button";
          button.textContent = item.name + " · " + item.level_label + " · " + item.code;
          button.addEventListener("click", function () { chooseResult(item); });
          li.appendChild(button);
          results.appendChild(li);
        });
        return data.results;
      });
  }
  function chooseResult(item) {
    results.innerHTML = "";
    searchInput.value = item.name;
    return focusArea(item, { animate: true });
  }

  // Show an area (a search result, or the page's ?wilayah=) at its level and open its panel.
  function focusArea(item, options) {
    var b = item.bbox;
    var go = function () {
      return openPanel(item.code).then(function () {
        if (!b || b.indexOf(null) !== -1) return;  // an area without a boundary
        // Fit the area into the part of the map the panel leaves free.
        var box = visibleBox(), size = map.getSize();
        var fit = {
          maxZoom: 16,
          paddingTopLeft: [box.left + 20, box.top + 20],
          paddingBottomRight: [size.x - box.right + 20, size.y - box.bottom + 20],
        };
        var bounds = [[b[1], b[0]], [b[3], b[2]]];
        if (options.animate) map.flyToBounds(bounds, L.extend(fit, { duration: 0.8 }));
        else map.fitBounds(bounds, fit);
      });
    };
    var levelInput = form.querySelector('input[name="level"][value="' + item.level + '"]');
    if (levelInput && item.level !== state.level) {
      levelInput.checked = true;
      return setLevel(item.level).then(go);
    }
    return go();
  }

  // Institution sites, clustered on a pixel grid when dense.
  var sitesLayer = L.layerGroup();
  var sites = null;
  function toggleSites(on) {
    if (!on) { map.removeLayer(sitesLayer); return; }
    sitesLayer.addTo(map);
    if (sites) { drawSites(); return; }
    fetch(config.sitesUrl).then(function (r) { return r.json(); }).then(function (data) {
      sites = data;
      drawSites();
    });
  }
  function drawSites() {
    if (!sites || !map.hasLayer(sitesLayer)) return;
    sitesLayer.clearLayers();
    var cell = 48, groups = {};
    sites.sites.forEach(function (site) {
      var p = map.latLngToLayerPoint([site.y, site.x]);
      var key = Math.floor(p.x / cell) + ":" + Math.floor(p.y / cell);
      (groups[key] = groups[key] || []).push(site);
    });
    var clusters = 0;
    Object.keys(groups).forEach(function (key) {
      var group = groups[key];
      if (group.length === 1) {
        var site = group[0];
        L.circleMarker([site.y, site.x], { renderer: renderer, radius: 6, color: "#0b2a3f", weight: 2, fillColor: "#2a9d8f", fillOpacity: 1 })
          .bindTooltip(escapeHtml(site.n) + "<br>" + escapeHtml(sites.kinds[site.k] || site.k))
          .on("click", function () { openPanel(site.a); })
          .addTo(sitesLayer);
        return;
      }
      clusters++;
      var bounds = L.latLngBounds(group.map(function (s) { return [s.y, s.x]; }));
      L.marker(bounds.getCenter(), {
        icon: L.divIcon({ className: "site-cluster", html: "<span>" + group.length + "</span>", iconSize: [34, 34] }),
        title: plural(t.sitesHere, group.length),
        keyboard: true,
      }).on("click", function () { map.fitBounds(bounds.pad(0.5)); }).addTo(sitesLayer);
    });
    element.dataset.siteClusters = String(clusters);
  }
  map.on("zoomend", drawSites);

  window.ksbbMap = {
    map: map,
    state: state,
    openPanel: openPanel,
    fillOf: function (code) { var l = state.byCode[code]; return l ? l.options.fillColor : null; },
  };

  var initial = form.querySelector('input[name="level"]:checked');
  if (config.focus) {
    state.fitted = true;  // the focused area, not the whole city
    tilesWait = true;  // the base map at the focused area's view, not before
    var focusLevel = form.querySelector('input[name="level"][value="' + config.focus.level + '"]');
    if (focusLevel) focusLevel.checked = true;
    var focused = function () { tilesWait = false; showTiles(); };
    setLevel(focusLevel ? config.focus.level : initial ? initial.value : config.layers[0].level)
      .then(function () { return focusArea(config.focus, { animate: false }); })
      .then(focused, focused);
  } else {
    setLevel(initial ? initial.value : config.layers[0].level);
  }
  if (document.getElementById("show-sites").checked) toggleSites(true);
})();
