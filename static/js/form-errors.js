// A page that comes back with errors (issue 25): focus goes to the first invalid field, whose
// aria-describedby names its error, or else to the first error message, so that a keyboard or
// screen reader user starts where the problem is. A page without errors keeps its focus.
(function () {
  "use strict";

  function shown(element) {
    return (
      element.getClientRects().length > 0 &&
      !element.closest("[hidden]") &&
      (element.matches("input, select, textarea") || element.textContent.trim() !== "")
    );
  }

  function firstShown(selector) {
    return Array.from(document.querySelectorAll(selector)).find(shown);
  }

  const field = firstShown(
    "main form [aria-invalid='true']:not([disabled]):not([type='hidden'])",
  );
  const summary =
    field ||
    firstShown("main .errorlist[role='alert'], main [role='alert'] .errorlist, main [role='alert']");
  if (!summary) return;
  if (!field && !summary.hasAttribute("tabindex")) {
    summary.setAttribute("tabindex", "-1"); // focusable from a script, not in the tab order
  }
  summary.focus();
})();
