// Home question box: GET /api/ask and render how the question was read (intent, stored query, bound SPARQL),
// the answer items with their qualifiers, need for a physician and evidence, or why it was declined.
// Without JavaScript the form submits to /api/ask and the browser shows the JSON. The form is the home page's
// `ask` block (templates/home.html).
"use strict";
(function () {
  const form = document.getElementById("ask-form");
  const input = document.getElementById("ask-input");
  const out = document.getElementById("ask-answer");
  if (!form || !input || !out) return;

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function entityLink(item) {
    const link = el("a", item.label);
    link.href = "/entity/" + encodeURIComponent(item.id);
    return link;
  }

  function renderItem(item) {
    const li = el("li");
    const head = el("p");
    if (item.steps) {  // a causal chain
      item.steps.forEach((step, i) => {
        if (i) head.append(" → ");
        head.append(entityLink(step));
      });
    } else {
      head.append(entityLink(item));
    }
    const extras = [];
    if (item.qualifier) extras.push(item.qualifier);
    if (item.for_condition) extras.push("for " + item.for_condition.label);
    if (item.applies_when) extras.push(item.applies_when);
    if (item.drug) extras.push([item.drug.drug_class.label, item.drug.dosage_form.label, item.drug.route.label].join(", "));
    if (extras.length) head.append(" ", el("span", "(" + extras.join("; ") + ")", "muted"));
    if (item.requires_medical_supervision) head.append(" ", el("span", "⚕ needs a physician", "badge supervised"));
    li.append(head);
    (item.evidence || []).forEach((span) => {
      const quote = el("blockquote", "“" + span.quote + "”");
      quote.append(" ", el("small", "[" + span.start + "–" + span.end + "]", "muted"));
      li.append(quote);
    });
    return li;
  }

  function suggestionList(suggestions) {
    const list = el("ul", null, "plain");
    suggestions.forEach((text) => {
      const button = el("button", text, "link");
      button.type = "button";
      button.addEventListener("click", () => { input.value = text; ask(text); });
      const li = el("li");
      li.append(button);
      list.append(li);
    });
    return list;
  }

  function render(body) {
    const reading = body.interpretation;
    const parts = [];
    parts.push(el("p", reading.explanation, "hint"));
    if (body.understood) {
      const list = el("ol", null, "ask-items");
      body.answer.items.forEach((item) => list.append(renderItem(item)));
      parts.push(list);
    }
    if (body.answer.note) parts.push(el("p", body.answer.note, "notice"));
    if (reading.query) {
      const details = el("details");
      details.append(el("summary", "Stored query " + reading.query + " — the SPARQL it ran"));
      details.append(el("pre", reading.sparql));
      const open = el("a", "Run it on /sparql (JSON results)");
      open.href = "/sparql?format=json&query=" + encodeURIComponent(reading.sparql);
      details.append(open);
      parts.push(details);
    }
    if (!body.understood && body.suggestions.length) {
      parts.push(el("p", "Questions it answers:"), suggestionList(body.suggestions));
    }
    out.replaceChildren(...parts);
  }

  async function ask(question) {
    out.replaceChildren(el("p", "Looking it up…", "hint"));
    try {
      const response = await fetch("/api/ask?q=" + encodeURIComponent(question), { headers: { Accept: "application/json" } });
      const body = await response.json();
      if (!response.ok) {
        out.replaceChildren(el("p", body.detail || "The question could not be read.", "notice"));
        return;
      }
      render(body);
    } catch (error) {
      out.replaceChildren(el("p", "The service did not answer: " + error, "notice"));
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (input.value.trim()) ask(input.value.trim());
  });
})();
