/* A small TopoJSON (1.0) decoder: quantized, delta-encoded arcs -> GeoJSON features.
   Written for the portal (it only needs Polygon and MultiPolygon objects). */
(function (global) {
  "use strict";

  function decodeArcs(topology) {
    var transform = topology.transform;
    var sx = transform ? transform.scale[0] : 1, sy = transform ? transform.scale[1] : 1;
    var tx = transform ? transform.translate[0] : 0, ty = transform ? transform.translate[1] : 0;
    return topology.arcs.map(function (arc) {
      var x = 0, y = 0, out = new Array(arc.length);
      for (var i = 0; i < arc.length; i++) {
        if (transform) { x += arc[i][0]; y += arc[i][1]; } else { x = arc[i][0]; y = arc[i][1]; }
        out[i] = [x * sx + tx, y * sy + ty];
      }
      return out;
    });
  }

  function ring(indexes, arcs) {
    var points = [];
    for (var i = 0; i < indexes.length; i++) {
      var index = indexes[i];
      var arc = index < 0 ? arcs[~index].slice().reverse() : arcs[index];
      // Consecutive arcs share their joint point: keep it once.
      for (var j = points.length ? 1 : 0; j < arc.length; j++) points.push(arc[j]);
    }
    return points;
  }

  function geometry(object, arcs) {
    if (object.type === "Polygon") {
      return { type: "Polygon", coordinates: object.arcs.map(function (r) { return ring(r, arcs); }) };
    }
    if (object.type === "MultiPolygon") {
      return {
        type: "MultiPolygon",
        coordinates: object.arcs.map(function (polygon) {
          return polygon.map(function (r) { return ring(r, arcs); });
        }),
      };
    }
    return null;
  }

  global.topoFeatures = function (topology, name) {
    var arcs = decodeArcs(topology);
    var collection = topology.objects[name];
    return {
      type: "FeatureCollection",
      features: collection.geometries.map(function (object) {
        return { type: "Feature", id: object.id, properties: object.properties || {}, geometry: geometry(object, arcs) };
      }),
    };
  };
})(window);
