// The SPARQL editor: YASGUI (vendored from npm) on /sparql, the stored queries as one-click examples, entity IRIs
// in results linked to their pages with their labels, downloads, and the server's syntax errors at line/column.
"use strict";
(function () {
  const KS = "https://w3id.org/knee-soreness/";
  const root = document.getElementById("yasgui");
  if (!root || typeof window.Yasgui === "undefined") return;  // the plain form below keeps working
  document.getElementById("plain-form").hidden = true;
  const endpoint = new URL(root.dataset.endpoint, window.location.href).toString();
  const errorBox = document.getElementById("query-error");
  const labels = new Map();

  // Completion only from this service: prefixes from /prefixes.json, the query's variables, and classes (after
  // `a`) and properties from the stored query `vocabulary`. YASQE's own class/property completers would ask a
  // public vocabulary service (LOV) instead.
  let vocabulary = null;
  function terms(kind) {
    vocabulary = vocabulary || fetch("/api/queries/vocabulary", { headers: { Accept: "application/json" } })
      .then((r) => r.json())
      .then((body) => body.bindings);
    return vocabulary.then((rows) => rows.filter((row) => row.kind.value === kind).map((row) => row.term.value));
  }
  Yasgui.Yasqe.forkAutocompleter("class", { name: "graphClasses", bulk: true, persistenceId: null, get: () => terms("class") });
  Yasgui.Yasqe.forkAutocompleter("property", { name: "graphProperties", bulk: true, persistenceId: null, get: () => terms("property") });
  Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables", "graphClasses", "graphProperties"];
  Yasgui.Yasqe.defaults.prefixCcApi = new URL("/prefixes.json", window.location.href).toString();

  const yasgui = new Yasgui(root, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: () => [{ endpoint: endpoint }] },
    persistenceId: "kg-service-editor",
    populateFromUrl: true,
    yasqe: { value: root.dataset.example },
    yasr: { prefixes: JSON.parse(root.dataset.prefixes), defaultPlugin: "table" },  // results show ks:x, xsd:y
  });

  window.kgEditor = yasgui;  // for the browser tests and the console
  function tab() { return yasgui.getTab(); }

  // Examples: every stored query; one click loads it into the current tab and runs it.
  fetch("/api/queries", { headers: { Accept: "application/json" } })
    .then((r) => r.json())
    .then((queries) => {
      const list = document.getElementById("examples");
      list.replaceChildren();
      for (const q of queries) {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "example";
        button.dataset.query = q.name;
        button.textContent = q.summary;
        button.title = q.name + ".rq";
        button.addEventListener("click", () => {
          const yasqe = tab().getYasqe();
          yasqe.setValue(withExampleValues(q));
          yasqe.query().catch(() => {});  // a failure is shown in the results panel and above the editor
        });
        item.append(button);
        list.append(item);
      }
    });

  // A stored query's required parameters bound to their documented examples by a VALUES block at the top of its
  // WHERE group (so its FILTERs see them, as with /api/queries/{name}); optional ones stay unbound: every value.
  function term(param) {
    const value = String(param.example);
    if (param.type === "id") return "<" + KS + value + ">";
    if (param.type === "iri") return "<" + value + ">";
    if (param.type === "integer" || param.type === "boolean") return value;
    return JSON.stringify(value);
  }
  function withExampleValues(q) {
    const bound = q.parameters.filter((p) => p.required && p.example !== null && p.example !== undefined);
    const where = /WHERE\s*\{/i;
    if (!bound.length || !where.test(q.sparql)) return q.sparql;
    const values = "VALUES (" + bound.map((p) => "?" + p.name).join(" ") + ") { (" + bound.map(term).join(" ") +
      ") }  # the example of each parameter";
    return q.sparql.replace(where, (match) => match + "\n  " + values);
  }

  // Labels of every entity, so result IRIs show what they name.
  fetch("/entities?format=json", { headers: { Accept: "application/json" } })
    .then((r) => r.json())
    .then((index) => {
      for (const items of Object.values(index.categories)) for (const e of items) labels.set(e.iri, e.label);
      linkEntities();
    });

  // Result cells: an IRI of ours opens its entity page (the IRI stays on hover), with its label beside it.
  function linkEntities() {
    for (const a of root.querySelectorAll("a.iri:not([data-linked])")) {
      const iri = a.getAttribute("href");
      a.dataset.linked = "1";
      if (!iri || !iri.startsWith(KS)) continue;
      a.title = iri;
      a.href = "/entity/" + iri.slice(KS.length);
      a.target = "_self";
      const label = labels.get(iri);
      if (label) {
        const span = document.createElement("span");
        span.className = "iri-label";
        span.textContent = " " + label;
        a.after(span);
      }
    }
  }
  new MutationObserver(linkEntities).observe(root, { childList: true, subtree: true });

  // Downloads straight from the endpoint, for the query that last ran.
  function setDownloads(query) {
    const base = endpoint + "?query=" + encodeURIComponent(query) + "&format=";
    document.getElementById("download-csv").href = base + "csv";
    document.getElementById("download-json").href = base + "json";
    document.getElementById("download-tsv").href = base + "tsv";
    document.getElementById("downloads").hidden = false;
  }

  // A 400 from /sparql is problem+json with line and column: show it and put the cursor there.
  let marked = null;
  function clearError() {
    errorBox.hidden = true;
    errorBox.textContent = "";
    if (marked) { marked.yasqe.removeLineClass(marked.line, "background", "error-line"); marked = null; }
  }
  function showError(yasqe, problem) {
    errorBox.hidden = false;
    errorBox.textContent = problem.title + ": " + problem.detail + (problem.hint ? " " + problem.hint : "");
    if (problem.line) {
      const line = problem.line - 1;
      const ch = Math.max(0, (problem.column || 1) - 1);
      yasqe.addLineClass(line, "background", "error-line");
      marked = { yasqe: yasqe, line: line };
      yasqe.setCursor({ line: line, ch: ch });
      yasqe.focus();
    }
  }
  yasgui.on("query", (_yasgui, t) => { clearError(); setDownloads(t.getYasqe().getValue()); });
  yasgui.on("queryResponse", (_yasgui, t) => setTimeout(() => {  // after the tab hands the response to YASR
    const results = t.getYasr().results;
    const error = results && results.getError ? results.getError() : null;
    if (!error) return;
    let problem = null;
    try { problem = JSON.parse(error.text || error.statusText || ""); } catch (e) { problem = null; }
    if (problem && problem.detail) showError(t.getYasqe(), problem);
  }, 0));
})();
