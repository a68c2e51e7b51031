// The recipe's diagnosis of each finished run (the API's `diagnosis`), per variant, with a link
// to the lesson that shows it and "try the remedy": the form opened on the same setup plus the remedy.

import { h } from "../dom.js";
import { encodeSetup } from "./schema.js";

const BRANCH_TEXT = {
  training: "bad on the training data",
  overfitting: "good on training, bad on validation",
  fine: "good on both",
};
const CAUSE_TEXT = { "vanishing-gradients": "vanishing gradients", "learning-rate": "learning rate", plateau: "plateau" };

/** The label of a diagnosis: its branch, and its cause when it has one. */
export function labelOf(d) {
  const cause = d.cause ? ` · ${CAUSE_TEXT[d.cause] || d.cause}` : "";
  return `${BRANCH_TEXT[d.branch] || d.branch}${cause}`;
}

const keyOf = (d) => `${d.branch}/${d.cause ?? ""}`;

/**
 * Per variant, the diagnosis most of its finished replicates share (the first such run's, whose
 * spec and sentence are shown) and on how many of them it holds.
 */
export function variantDiagnoses(model) {
  const out = [];
  for (const v of model.variants) {
    const found = v.runs.filter((r) => r.diagnosis);
    if (!found.length) continue;
    const counts = new Map();
    for (const r of found) counts.set(keyOf(r.diagnosis), (counts.get(keyOf(r.diagnosis)) || 0) + 1);
    const [top, n] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
    out.push({ variant: v, run: found.find((r) => keyOf(r.diagnosis) === top), agree: n, of: found.length });
  }
  return out;
}

/** The form's setup for "try the remedy": the run's own spec as base, the run and the remedy as variants. */
export function remedySetup(run, remedy, sentence) {
  return {
    name: `${run.variant} + ${remedy.name}`,
    description: `The diagnosis said: ${sentence} Trying ${remedy.name} on the same setup.`,
    base: run.spec,
    variants: [{ name: run.variant, override: {} }, { name: remedy.name, override: remedy.override }],
  };
}

/** One sentence for the whole comparison: how many variants are in each branch. */
function wholeText(rows) {
  const counts = new Map();
  for (const row of rows) counts.set(row.run.diagnosis.branch, [...(counts.get(row.run.diagnosis.branch) || []), row.variant.name]);
  const parts = ["training", "overfitting", "fine"].filter((b) => counts.has(b))
    .map((b) => `${BRANCH_TEXT[b]}: ${counts.get(b).join(", ")}`);
  return `The comparison as a whole — ${parts.join("; ")}.`;
}

export class DiagnosisPanel {
  /** `lessonTitle(name)` names a lesson; `navigate(hash)` opens the form. */
  constructor(el, { model, lessonTitle, navigate }) {
    this.el = el;
    this.model = model;
    this.lessonTitle = lessonTitle;
    this.navigate = navigate;
    this.key = null;
  }

  /** Redraws only when a run has gained (or changed) its diagnosis. */
  update() {
    const rows = variantDiagnoses(this.model);
    const key = rows.map((r) => `${r.variant.name}:${keyOf(r.run.diagnosis)}:${r.agree}/${r.of}`).join("|");
    if (key === this.key) return;
    this.key = key;
    this.el.hidden = !rows.length;
    if (!rows.length) return;
    const seeds = this.model.repeats > 1;
    this.el.replaceChildren(
      h("h2", {}, "Diagnosis: the lecture's recipe"),
      h("p", { class: "muted small" }, "First: is the network good on its training data? If not, the fix is in training (vanishing gradients, the learning rate, a plateau). ",
        "If it is, but bad on validation, it overfits (early stopping, L1 / L2, dropout). Read from each run's own numbers."),
      rows.length > 1 ? h("p", { class: "diagnosis-whole" }, wholeText(rows)) : null,
      h("ul", { class: "diagnoses" }, rows.map((row) => this.item(row, seeds))),
    );
  }

  item({ variant, run, agree, of }, seeds) {
    const d = run.diagnosis;
    const lesson = d.lesson ? h("a", { class: "diagnosis-lesson", href: `#/lessons?lesson=${encodeURIComponent(d.lesson)}` }, `the lesson: ${this.lessonTitle(d.lesson)}`) : null;
    const remedies = d.remedies.map((remedy) => {
      const b = h("button", { type: "button", class: "small remedy", "data-remedy": remedy.name, title: JSON.stringify(remedy.override) }, `Try the remedy: ${remedy.name}`);
      b.addEventListener("click", () => this.navigate(`#/new?setup=${encodeSetup(remedySetup(run, remedy, d.sentence))}`));
      return b;
    });
    return h("li", { class: `diagnosis branch-${d.branch}`, "data-variant": variant.name, "data-branch": d.branch, "data-cause": d.cause ?? "" },
      h("div", { class: "diagnosis-head" },
        h("span", { class: "swatch", style: `background:${variant.color}` }),
        h("strong", {}, variant.name),
        h("span", { class: `badge branch-${d.branch}` }, labelOf(d)),
        seeds ? h("span", { class: "muted small" }, ` ${agree} of ${of} seeds`) : null),
      h("p", {}, d.sentence),
      lesson || remedies.length ? h("div", { class: "diagnosis-actions" }, lesson ? ["See ", lesson, " "] : null, ...remedies) : null);
  }
}
