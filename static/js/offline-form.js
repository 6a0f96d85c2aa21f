// The offline commitment form: the area fields suggest RW and kelurahan as one types,
// from the needs map's area search (facilitators already get their own areas listed).
(function () {
  var form = document.querySelector(".offline-form");
  var list = document.getElementById("offline-areas");
  if (!form || !list) return; // recording against a need: no area to choose
  var url = form.dataset.searchUrl;
  var initial = list.innerHTML;
  var timer = null;
  var latest = "";
  function show(results) {
    list.innerHTML = initial;
    results.forEach(function (area) {
      if (area.level !== "rw" && area.level !== "kelurahan") return;
      var option = document.createElement("option");
      option.value = area.code;
      option.textContent = area.name + " · " + area.level_label;
      list.appendChild(option);
    });
  }
  function search(query) {
    latest = query;
    if (navigator.onLine === false) return; // no network: the code typed is what is sent
    fetch(url + "?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (data) { if (data.query === latest) show(data.results || []); })
      .catch(function () { /* the network dropped mid-search: typing a code still works */ });
  }
  document.querySelectorAll("input[list=offline-areas]").forEach(function (input) {
    input.addEventListener("input", function () {
      var query = input.value.trim();
      clearTimeout(timer);
      if (query.length < 2) { list.innerHTML = initial; return; }
      timer = setTimeout(function () { search(query); }, 250);
    });
  });
  // One submission only: a second click while the first is on its way does nothing.
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    setTimeout(function () { button.disabled = true; }, 0);
  });
})();
