// Adding a need: offer only the donation forms of the chosen program.
(function () {
  "use strict";
  var data = document.getElementById("form-programs");
  var program = document.getElementById("id_program");
  var donationForm = document.getElementById("id_donation_form");
  if (!data || !program || !donationForm) return;
  var programOf = JSON.parse(data.textContent);

  function filter() {
    var chosen = program.value;
    Array.prototype.forEach.call(donationForm.options, function (option) {
      if (!option.value) return;
      var match = !chosen || String(programOf[option.value]) === chosen;
      option.hidden = !match;
      option.disabled = !match;
      if (!match && option.selected) donationForm.value = "";
    });
  }
  program.addEventListener("change", filter);
  filter();
})();
