// The asset registration page (templates/assets/register_form.html). "Add another group"
// adds an empty group here, from the page's <template>, without a round trip (without
// JavaScript the same button posts the page, which comes back with one group more); and a
// running total says how many assets the groups hold against the delivery's quantity.
(function () {
  var form = document.querySelector(".asset-register-form");
  var template = document.getElementById("asset-group-template");
  if (!form || !template) return;
  var holder = form.querySelector(".asset-groups");
  var counter = form.querySelector("input[name=groups]");
  var add = form.querySelector(".asset-add-group");
  var total = form.querySelector(".asset-total");
  var most = parseInt(form.dataset.maxGroups, 10);

  // The same reading as the server's (commitments/web/asset_forms.py, AssetGroupForm): a
  // count for owners other than private persons when the form asks no serial numbers,
  // otherwise one asset a non-empty line.
  function held(group) {
    var count = group.querySelector("input[name$='-count']");
    var lines = group.querySelector("textarea[name$='-lines']");
    var kind = group.querySelector("select[name$='-owner_kind']");
    if (count && !(kind && kind.value === "private")) return parseInt(count.value, 10) || 0;
    if (!lines) return 0;
    return lines.value.split("\n").filter(function (line) { return line.trim(); }).length;
  }
  // A group's school is asked only when its owner is a school.
  function fit(group) {
    var kind = group.querySelector("select[name$='-owner_kind']");
    var site = group.querySelector("select[name$='-owner_site']");
    if (!kind || !site || !site.parentElement) return;
    site.parentElement.hidden = kind.value !== "school";
  }
  function update() {
    holder.querySelectorAll("fieldset.asset-group").forEach(fit);
    var n = 0;
    holder.querySelectorAll("fieldset.asset-group").forEach(function (group) { n += held(group); });
    total.textContent = form.dataset.totalText.replace("__n__", n.toLocaleString());
  }
  if (add) {
    add.addEventListener("click", function (event) {
      var number = parseInt(counter.value, 10) + 1;
      if (!(number <= most)) return; // let the server say so
      event.preventDefault();
      holder.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__n__/g, String(number)));
      counter.value = String(number);
      if (number >= most) add.hidden = true;
      var first = holder.lastElementChild.querySelector("select, input, textarea");
      if (first) first.focus();
      update();
    });
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
  // One submission only: a second click while the first is on its way does nothing.
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.classList.contains("primary")) {
      setTimeout(function () { button.disabled = true; }, 0);
    }
  });
})();
