// The pledge form: a live estimate of the pledge's value and a single submission.
(function () {
  var form = document.querySelector(".pledge-form");
  if (!form) return; // the need is closed to this collaborator: no form to enhance
  var unit = parseFloat(form.dataset.unitValue);
  var output = document.getElementById("estimate");
  var quantity = form.elements.quantity;
  var lang = document.documentElement.lang === "en" ? "en" : "id-ID";
  var fmt = new Intl.NumberFormat(lang, { notation: "compact", maximumFractionDigits: 1 });
  function update() {
    if (!unit) return;
    var q = parseInt(quantity.value, 10) || 0;
    output.textContent = (lang === "en" ? "IDR " : "Rp ") + fmt.format(q * unit);
  }
  quantity.addEventListener("input", update);
  update();
  // One submission only: a second click while the first is on its way does nothing.
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit]");
    setTimeout(function () { button.disabled = true; }, 0);
  });
})();
