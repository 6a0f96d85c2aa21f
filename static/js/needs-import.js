// Progress of a needs import: polls the small status endpoint and reloads the page when
// the job moves on (checked, applied, failed), so the server renders the result.
(function () {
  "use strict";
  var box = document.querySelector(".import-status[data-status-url]");
  if (!box || box.getAttribute("data-busy") !== "true") return;
  var url = box.getAttribute("data-status-url");
  var initial = box.getAttribute("data-status");
  var bar = box.querySelector("progress");
  var done = box.querySelector("[data-role=rows-done]");

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (state) {
        if (bar) {
          bar.max = state.rows_total || 1;
          bar.value = state.rows_done;
        }
        if (done) done.textContent = state.rows_done;
        if (state.status !== initial || !state.busy) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 1500);
      })
      .catch(function () {
        window.setTimeout(poll, 5000);  // a network hiccup on a phone: try again later
      });
  }
  window.setTimeout(poll, 1000);
})();
