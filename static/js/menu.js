// The header's "Menu" button (issue 25): on a phone the navigation folds behind it. Without
// this script the button stays hidden and the navigation wraps under the brand instead.
(function () {
  "use strict";
  const button = document.querySelector(".site-header .menu-toggle");
  const nav = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!nav) return;
  const header = button.closest(".site-header");

  function setOpen(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("menu-open", open);
  }

  header.classList.add("has-menu");
  button.hidden = false;
  setOpen(false);
  button.addEventListener("click", () => {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  // Escape closes an open menu and gives focus back to its button.
  header.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && header.classList.contains("menu-open")) {
      setOpen(false);
      button.focus();
    }
  });
})();
