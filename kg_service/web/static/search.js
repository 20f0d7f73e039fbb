// Home search: suggestions from /api/search as you type (partial words, typos), an ARIA combobox driven by the
// keyboard (↑ ↓ choose, Enter opens, Escape closes). Without JavaScript the form submits to /entities?q=.
"use strict";
(function () {
  const input = document.getElementById("search-input");
  const list = document.getElementById("search-options");
  const status = document.getElementById("search-status");
  if (!input || !list) return;
  let options = [];
  let active = -1;
  let pending = null;

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    const items = list.querySelectorAll("[role=option]");
    items.forEach((item, i) => item.setAttribute("aria-selected", String(i === index)));
    active = index;
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", items[index].id);
      items[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function show(results) {
    options = results;
    list.replaceChildren();
    results.forEach((hit, i) => {
      const item = document.createElement("li");
      item.id = "search-option-" + i;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      const link = document.createElement("a");
      link.href = "/entity/" + encodeURIComponent(hit.id);
      link.tabIndex = -1;
      link.textContent = hit.label;
      const kind = document.createElement("span");
      kind.className = "muted";
      kind.textContent = " " + hit.category + (hit.matched !== hit.label ? " — “" + hit.matched + "”" : "");
      item.append(link, kind);
      item.addEventListener("mousedown", (event) => { event.preventDefault(); open(i); });
      list.append(item);
    });
    const any = results.length > 0;
    list.hidden = !any;
    input.setAttribute("aria-expanded", String(any));
    status.textContent = any ? results.length + " suggestions" : "No match";
    highlight(any ? 0 : -1);
  }

  function open(index) {
    if (index >= 0 && options[index]) window.location.href = "/entity/" + encodeURIComponent(options[index].id);
  }

  input.addEventListener("input", () => {
    const q = input.value.trim();
    if (pending) pending.abort();
    if (!q) { close(); return; }
    pending = new AbortController();
    fetch("/api/search?limit=8&q=" + encodeURIComponent(q), { signal: pending.signal, headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : { results: [] }))
      .then((body) => { if (input.value.trim() === q) show(body.results); })
      .catch(() => {});
  });

  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown") { event.preventDefault(); highlight((active + 1) % options.length); }
    else if (event.key === "ArrowUp") { event.preventDefault(); highlight((active - 1 + options.length) % options.length); }
    else if (event.key === "Enter" && active >= 0) { event.preventDefault(); open(active); }
    else if (event.key === "Escape") { close(); }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
})();
