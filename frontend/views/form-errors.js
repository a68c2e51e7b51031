// Puts the API's 422 messages next to the fields they name (FastAPI's loc is the field path).

import { t } from "../i18n.js";

function clean(msg, type) {
  // Pydantic's pattern message shows a regular expression; say which characters are allowed.
  if (type === "string_pattern_mismatch") return t("form.error.pattern");
  return String(msg).replace(/^Value error, /, "");
}

function rowFor(root, loc, msg) {
  const path = loc.filter((p) => p !== "body").map(String);
  // The longest prefix of the path that the form shows: "base.model.hidden.0" lands on hidden.
  for (let n = path.length; n > 0; n--) {
    const row = root.querySelector(`[data-field="${CSS.escape(path.slice(0, n).join("."))}"]`);
    if (row) return { row, msg };
  }
  // Whole-experiment checks name the run and field inside their sentence: "variants[1]: override.x.y: …".
  const v = /variants\[(\d+)\]: override\.([\w.]+): (.*)$/s.exec(msg);
  if (v) {
    const row = root.querySelector(`[data-field="variants.${v[1]}.override.${CSS.escape(v[2])}"]`) ||
      root.querySelector(`[data-variant="${v[1]}"] .variant-head`);
    if (row) return { row, msg: v[3] };
  }
  const g = /grid run '.*?': override\.([\w.]+): (.*)$/s.exec(msg);
  if (g) {
    for (const row of root.querySelectorAll('[data-field^="grid."]')) {
      const sel = row.querySelector("select");
      if (sel && sel.value === g[1]) return { row, msg: g[2] };
    }
  }
  return null;
}

export function clearErrors(root, box) {
  box.hidden = true;
  box.textContent = "";
  for (const row of root.querySelectorAll(".has-error")) {
    row.classList.remove("has-error");
    const err = row.querySelector(":scope > .field-error");
    if (err) err.textContent = "";
    for (const input of row.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }
}

/** detail: FastAPI's list of {loc, msg}, or a sentence. Unplaced messages go in the box on top. */
export function showErrors(root, box, detail) {
  const loose = [];
  let first = null;
  for (const err of Array.isArray(detail) ? detail : [{ loc: [], msg: detail }]) {
    const msg = clean(err.msg ?? err, err.type);
    const hit = Array.isArray(err.loc) ? rowFor(root, err.loc, msg) : null;
    if (!hit) {
      loose.push(msg);
      continue;
    }
    const slot = hit.row.querySelector(":scope > .field-error");
    hit.row.classList.add("has-error");
    if (slot) slot.textContent = slot.textContent ? `${slot.textContent} ${hit.msg}` : hit.msg;
    const input = hit.row.querySelector("input, select, textarea");
    if (input) input.setAttribute("aria-invalid", "true");
    first ??= hit.row;
  }
  if (loose.length) {
    box.hidden = false;
    box.textContent = t("form.error.rejected", { messages: loose.join(" ") });
    first ??= box;
  }
  if (first) {
    first.scrollIntoView({ block: "center" });
    const input = first.querySelector && first.querySelector("input, select, textarea");
    if (input) input.focus({ preventScroll: true });
  }
}
