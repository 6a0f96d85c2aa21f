// Redoc's side menu ends with Redocly's logo, an <img> from their CDN that no option turns
// off. The CSP refuses it (visitors' browsers must not call a third party), which left an
// error in the console. Loaded before Redoc: an <img> given exactly that address is hidden
// instead of fetched; the "API docs by Redocly" link stays. Nothing else is touched.
(function () {
  "use strict";
  var LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg";
  var setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLImageElement && String(name).toLowerCase() === "src" && String(value) === LOGO) {
      this.hidden = true;
      return;
    }
    return setAttribute.call(this, name, value);
  };
  var src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, "src");
  Object.defineProperty(HTMLImageElement.prototype, "src", {
    configurable: true,
    enumerable: src.enumerable,
    get: src.get,
    set: function (value) {
      if (String(value) === LOGO) {
        this.hidden = true;
        return;
      }
      src.set.call(this, value);
    },
  });
})();
