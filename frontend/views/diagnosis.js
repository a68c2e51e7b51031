// The recipe's diagnosis of each finished run (the API's `diagnosis`), per variant, with a link
// to the lesson that shows it and "try the remedy": the form opened on the same setup plus the remedy.

import { h } from "../dom.js";
import { msg, t } from "../i18n.js";
import { diagnosisText } from "./diagnosis-text.js";
import { encodeSetup } from "./schema.js";

const BRANCH_TEXT = {
  training: msg("diag.branch.training"),
  overfitting: msg("diag.branch.overfitting"),
  fine: msg("diag.branch.fine"),
};
const CAUSE_TEXT = {
  "vanishing-gradients": msg("diag.cause.vanishing-gradients"),
  "learning-rate": msg("diag.cause.learning-rate"),
  plateau: msg("diag.cause.plateau"),
};
const branchText = (b) => (BRANCH_TEXT[b] ? t(BRANCH_TEXT[b]) : b);

/** The label of a diagnosis: its branch, and its cause when it has one. */
export function labelOf(d) {
  const cause = d.cause ? ` · ${CAUSE_TEXT[d.cause] ? t(CAUSE_TEXT[d.cause]) : d.cause}` : "";
  return `${branchText(d.branch)}${cause}`;
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
    description: t("diag.remedy.description", { sentence, remedy: remedy.name }),
    base: run.spec,
    variants: [{ name: run.variant, override: {} }, { name: remedy.name, override: remedy.override }],
  };
}

/** One sentence for the whole comparison: how many variants are in each branch. */
function wholeText(rows) {
  const counts = new Map();
  for (const row of rows) counts.set(row.run.diagnosis.branch, [...(counts.get(row.run.diagnosis.branch) || []), row.variant.name]);
  const parts = ["training", "overfitting", "fine"].filter((b) => counts.has(b))
    .map((b) => t("diag.whole.part", { branch: branchText(b), variants: counts.get(b).join(t("list.sep")) }));
  return t("diag.whole", { parts: parts.join(t("diag.whole.sep")) });
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
      h("h2", {}, t("diag.title")),
      h("p", { class: "muted small" }, t("diag.lead")),
      rows.length > 1 ? h("p", { class: "diagnosis-whole" }, wholeText(rows)) : null,
      h("ul", { class: "diagnoses" }, rows.map((row) => this.item(row, seeds))),
    );
  }

  item({ variant, run, agree, of }, seeds) {
    const d = run.diagnosis;
    const sentence = diagnosisText(d, run);
    const lesson = d.lesson ? h("a", { class: "diagnosis-lesson", href: `#/lessons?lesson=${encodeURIComponent(d.lesson)}` }, t("diag.lesson", { lesson: this.lessonTitle(d.lesson) })) : null;
    const remedies = d.remedies.map((remedy) => {
      const b = h("button", { type: "button", class: "small remedy", "data-remedy": remedy.name, title: JSON.stringify(remedy.override) }, t("diag.remedy", { remedy: remedy.name }));
      b.addEventListener("click", () => this.navigate(`#/new?setup=${encodeSetup(remedySetup(run, remedy, sentence))}`));
      return b;
    });
    return h("li", { class: `diagnosis branch-${d.branch}`, "data-variant": variant.name, "data-branch": d.branch, "data-cause": d.cause ?? "" },
      h("div", { class: "diagnosis-head" },
        h("span", { class: "swatch", style: `background:${variant.color}` }),
        h("strong", {}, variant.name),
        h("span", { class: `badge branch-${d.branch}` }, labelOf(d)),
        seeds ? h("span", { class: "muted small" }, t("diag.seeds", { agree, of })) : null),
      h("p", { class: "diagnosis-sentence" }, sentence),
      lesson || remedies.length ? h("div", { class: "diagnosis-actions" }, lesson ? [t("diag.see"), lesson, " "] : null, ...remedies) : null);
  }
}
