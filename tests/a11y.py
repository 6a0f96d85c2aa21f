# ruff: noqa: E501  (the check runs as JavaScript in the page; its lines stay whole)
"""Basic accessibility checks run in the page: every form control has a label, buttons and
links have names, images have alt text, and text contrast meets WCAG AA."""

CHECK_SCRIPT = r"""
() => {
  const problems = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none";
  };
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : "");
  // Labels
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden" || !visible(el)) continue;
    const labelled = (el.id && document.querySelector(`label[for="${el.id}"]`)) ||
      el.closest("label") || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    if (!labelled) problems.push("no label: " + describe(el));
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (!visible(el)) continue;
    const name = (el.textContent || "").trim() || el.getAttribute("aria-label") || el.getAttribute("title") ||
      (el.querySelector("img[alt]") && el.querySelector("img[alt]").alt);
    if (!name) problems.push("no accessible name: " + describe(el));
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt") && visible(img)) problems.push("no alt: " + describe(img));
  }
  if (!document.documentElement.lang) problems.push("no lang on <html>");
  // Contrast of text against the first opaque background behind it
  const parse = (c) => { const m = c.match(/[\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; };
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if ((c.length < 4 || c[3] >= 0.5) && !(c.length === 4 && c[3] === 0)) return c;
      if (getComputedStyle(e).backgroundImage !== "none") return null;
    }
    return [255, 255, 255];
  };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || seen.has(el) || !visible(el) || el.closest(".leaflet-pane, .visually-hidden, option")) continue;
    seen.add(el);
    const style = getComputedStyle(el);
    const bg = background(el);
    if (!bg) continue;
    const l1 = lum(parse(style.color)), l2 = lum(bg);
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) problems.push(`contrast ${ratio.toFixed(2)} < ${needed}: ${describe(el)} "${node.textContent.trim().slice(0, 30)}"`);
  }
  return problems;
}
"""


def accessibility_problems(page) -> list[str]:
    return page.evaluate(CHECK_SCRIPT)
