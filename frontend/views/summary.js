// The per-run table: progress, status, cancel, and the summary columns; sortable, updated once per frame.

import { register, schedule } from "../charts.js";
import { fmt, h, pct, seconds } from "../dom.js";
import { msg, t, tOr } from "../i18n.js";
import { isFinal, STATUS } from "../statuses.js";
import { runMessage } from "./run-message.js";

// The tables' text changes at most 4 times a second while runs stream: each change makes the
// browser lay out, shape and paint again (at ×4 CPU throttling, 0.3 s of every 4 s went to layout
// alone when they changed every frame), and nobody reads a number that changes 30 times a second.
const TABLE_MS = 250;

const STATUS_TEXT = {
  queued: msg("status.queued"), running: msg("status.running"), completed: msg("status.completed"),
  stopped_early: msg("status.stopped_early"), diverged: msg("status.diverged"), cancelled: msg("status.cancelled"),
  failed: msg("status.failed"), interrupted: msg("status.interrupted"),
  finished: msg("status.finished"), // an experiment's: every run over (history's list)
};
export const statusText = (status) => (STATUS_TEXT[status] ? t(STATUS_TEXT[status]) : status);

// The API's verdict (compare.py) said in the page's language from its numbers: which side of the
// reference the paired differences fall, and whether their 95 % interval leaves out 0.
const VERDICT_SIDES = {
  final_val_loss: [msg("verdict.final.below"), msg("verdict.final.above")],
  best_val_loss: [msg("verdict.best.below"), msg("verdict.best.above")],
};

export function verdictText(c) {
  const [below, above] = VERDICT_SIDES[c.metric] || VERDICT_SIDES.final_val_loss;
  const values = { reference: c.reference, lower: c.lower, higher: c.n - c.lower, n: c.n };
  if (c.n === 0) return t("verdict.none");
  if (c.n === 1) {
    const side = c.mean_diff === 0 ? t("verdict.level", values) : t(c.mean_diff < 0 ? below : above, values);
    return t("verdict.anecdote", { side });
  }
  if (c.ci_high < 0) return t("verdict.seeds", { side: t(below, values), ...values, count: c.lower });
  if (c.ci_low > 0) return t("verdict.seeds", { side: t(above, values), ...values, count: c.n - c.lower });
  return t("verdict.unclear", values);
}

/** What each column shows for a run (live values until the summary arrives) and how it sorts. */
function columns(task) {
  const last = (r) => r.epochs.at(-1);
  return [
    { key: "name", label: t("table.run"), value: (r) => r.index, text: null },
    { key: "status", label: t("table.status"), value: (r) => r.status, text: null },
    { key: "progress", label: t("table.epoch"), value: (r) => r.epochs.length / (r.total || 1), text: null },
    { key: "best_epoch", label: t("table.bestEpoch"), value: (r) => r.summary?.best_epoch ?? r.best?.epoch, text: (v) => (v ? String(v) : "—") },
    { key: "best_val_loss", label: t("table.bestVal"), value: (r) => r.summary?.best_val_loss ?? r.best?.val, text: fmt },
    task === "regression"
      ? { key: "test", label: t("table.testLoss"), value: (r) => r.summary?.test_loss, text: fmt }
      : { key: "test", label: t("table.testAcc"), value: (r) => r.summary?.test_acc, text: pct },
    { key: "gap", label: t("table.gap"), value: (r) => r.summary?.gap ?? (last(r) ? last(r).val_loss - last(r).train_loss : null), text: fmt },
    { key: "sparsity", label: t("table.zeros"), value: (r) => r.summary?.sparsity ?? last(r)?.sparsity, text: pct },
    { key: "seconds", label: t("table.time"), value: (r) => r.summary?.seconds ?? last(r)?.seconds, text: seconds },
  ];
}

export class SummaryTable {
  constructor(el, { runs, task, onCancel, sharedNote, readOnly = false }) {
    this.el = el;
    this.runs = runs;
    this.sharedNote = sharedNote;
    this.readOnly = readOnly; // a replay: nothing to cancel
    this.cols = columns(task);
    this.sort = { key: "name", dir: 1 };
    this.rows = new Map();
    register(this, { cheap: true, minInterval: TABLE_MS });
    const headRow = h("tr", {}, this.cols.map((c) => {
      const button = h("button", { type: "button", class: "sort", "data-sort": c.key }, c.label, h("span", { class: "sort-mark", "aria-hidden": "true" }));
      button.addEventListener("click", () => this.sortBy(c.key));
      return h("th", { scope: "col", "aria-sort": c.key === "name" ? "ascending" : "none" }, button);
    }), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("table.actions"))));
    this.tbody = h("tbody");
    for (const run of runs) {
      const cancel = h("button", { type: "button", class: "ghost small danger", "data-cancel": run.id, title: t("table.stopRun", { run: run.name }) }, t("table.cancel"));
      cancel.addEventListener("click", () => onCancel(run, cancel));
      const cells = this.cols.map((c) => h("td", { "data-col": c.key }));
      cells[0].append(h("span", { class: "swatch", style: { background: run.color } }), h("span", { class: "run-name" }, run.name),
        h("small", { class: "run-changes" }, run.changes || t("table.baseSetup")));
      const bar = h("div", { class: "progress" }, h("div", { class: "progress-fill", style: { background: run.color } }));
      cells[2].append(bar, h("span", { class: "progress-text" }));
      const tr = h("tr", { "data-run": run.id }, cells, h("td", { class: "actions" }, cancel));
      this.rows.set(run.id, { tr, cells, cancel, bar: bar.firstChild, progressText: cells[2].lastChild });
      this.tbody.appendChild(tr);
    }
    el.appendChild(h("table", { class: "summary" }, h("thead", {}, headRow), this.tbody));
    this.update();
  }

  update() {
    schedule(this);
  }

  sortBy(key) {
    this.sort = { key, dir: this.sort.key === key ? -this.sort.dir : 1 };
    for (const th of this.el.querySelectorAll("th")) {
      const b = th.querySelector("[data-sort]");
      if (b) th.setAttribute("aria-sort", b.dataset.sort === key ? (this.sort.dir > 0 ? "ascending" : "descending") : "none");
    }
    this.flush();
  }

  flush() {
    for (const run of this.runs) {
      const row = this.rows.get(run.id);
      row.tr.dataset.status = run.status;
      const status = row.cells[1];
      const label = statusText(run.status);
      if (status.dataset.status !== run.status || status.dataset.message !== (run.message || "")) {
        status.dataset.status = run.status;
        status.dataset.message = run.message || "";
        status.title = runMessage(run.message) || "";
        status.replaceChildren(h("span", { class: `badge status-${run.status}` }, label));
        if (run.message && run.status !== STATUS.running) status.appendChild(h("small", { class: "status-message" }, runMessage(run.message)));
      }
      const done = run.epochs.length;
      row.bar.style.width = `${Math.min(100, (100 * done) / (run.total || 1))}%`;
      row.progressText.textContent = `${done} / ${run.total ?? "?"}`;
      this.cols.slice(3).forEach((c, i) => {
        const text = c.text(c.value(run));
        if (row.cells[i + 3].textContent !== text) row.cells[i + 3].textContent = text;
      });
      row.cancel.hidden = this.readOnly || isFinal(run.status);
      // A run served from an identical earlier one says so (the summary may bring it later).
      if (run.sharedFrom && !row.note && this.sharedNote) {
        row.note = h("small", { class: "shared-note", "data-shared-from": String(run.sharedFrom) },
          t("table.sharedRun"), this.sharedNote(run.sharedFrom));
        row.cells[0].appendChild(row.note);
      }
    }
    const col = this.cols.find((c) => c.key === this.sort.key);
    const key = (r) => col.value(r);
    const sorted = [...this.runs].sort((a, b) => {
      const va = key(a), vb = key(b);
      if (va === vb) return a.index - b.index;
      if (va === null || va === undefined) return 1; // unknown values sink, whatever the direction
      if (vb === null || vb === undefined) return -1;
      return (va < vb ? -1 : 1) * this.sort.dir;
    });
    sorted.forEach((run, i) => {
      const tr = this.rows.get(run.id).tr;
      if (this.tbody.children[i] !== tr) this.tbody.insertBefore(tr, this.tbody.children[i] || null);
    });
  }
}

// The sd to two significant digits: it says how far the mean can be trusted, no further.
const plusMinus = (s) => (s ? `${fmt(s.mean)} ± ${fmt(s.sd, 2)}` : "—");
const pctPlusMinus = (s) => (s ? `${(100 * s.mean).toFixed(1)} ± ${fmt(100 * s.sd, 2)} %` : "—");

/**
 * With replicates: one row per variant — seeds done, progress, mean ± sd over its finished seeds
 * (the sample sd), and the API's verdict against the reference variant with the lesson's claims
 * next to them. Cheap DOM text, updated once per frame.
 */
export class VariantTable {
  constructor(el, { model, task, spread, verdictOf, sharedNote }) {
    this.el = el;
    this.sharedNote = sharedNote;
    this.model = model;
    this.verdictOf = verdictOf;
    const test = task === "regression"
      ? { key: "test", label: t("table.testLoss"), value: (r) => r.summary?.test_loss, text: plusMinus }
      : { key: "test", label: t("table.testAcc"), value: (r) => r.summary?.test_acc, text: pctPlusMinus };
    this.cols = [
      { key: "best_val_loss", label: t("table.bestVal"), value: (r) => r.summary?.best_val_loss, text: plusMinus },
      { key: "final_val_loss", label: t("table.finalVal"), value: (r) => r.summary?.final_val_loss, text: plusMinus },
      test,
      { key: "gap", label: t("table.gap"), value: (r) => r.summary?.gap, text: plusMinus },
    ];
    this.spread = spread;
    register(this, { cheap: true, minInterval: TABLE_MS });
    const head = h("tr", {}, [t("table.variant"), t("table.seeds"), t("table.epoch"), ...this.cols.map((c) => c.label),
      t("table.verdict", { reference: model.meta.reference || t("table.theReference") })]
      .map((label) => h("th", { scope: "col" }, label)));
    this.rows = new Map();
    const tbody = h("tbody");
    for (const v of model.variants) {
      const cells = [h("td", { "data-col": "name" }), h("td", { "data-col": "status" }), h("td", { "data-col": "progress" }),
        ...this.cols.map((c) => h("td", { "data-col": c.key })), h("td", { "data-col": "verdict", class: "verdict" })];
      cells[0].append(h("span", { class: "swatch", style: { background: v.color } }), h("span", { class: "run-name" }, v.name),
        h("small", { class: "run-changes" }, v.changes || t("table.baseSetup")));
      const bar = h("div", { class: "progress" }, h("div", { class: "progress-fill", style: { background: v.color } }));
      cells[2].append(bar, h("span", { class: "progress-text" }));
      const tr = h("tr", { "data-variant": v.name }, cells);
      this.rows.set(v.name, { tr, cells, bar: bar.firstChild, progressText: cells[2].lastChild });
      tbody.appendChild(tr);
    }
    el.appendChild(h("table", { class: "summary by-variant" }, h("thead", {}, head), tbody));
    const claims = model.meta.claims || [];
    if (claims.length) {
      // A lesson's claims in the page's language (keyed by lesson and claim), else the API's words.
      const lesson = model.meta.lesson;
      el.appendChild(h("div", { class: "claims" }, h("h3", {}, t("claims.title")),
        h("ul", {}, claims.map((c, i) => h("li", {}, lesson ? tOr(`lesson.${lesson}.claim.${i}`, c) : c))),
        h("p", { class: "muted small" }, t("claims.paired", { n: model.repeats }))));
    }
    this.update();
  }

  update() {
    schedule(this);
  }

  flush() {
    for (const v of this.model.variants) {
      const row = this.rows.get(v.name);
      const done = v.runs.filter((r) => isFinal(r.status)).length;
      const running = v.runs.filter((r) => r.status === STATUS.running).length;
      const status = done === v.runs.length ? STATUS.completed : running ? STATUS.running : STATUS.queued;
      const counts = new Map();
      for (const r of v.runs) counts.set(r.status, (counts.get(r.status) || 0) + 1);
      const label = [...counts].map(([st, n]) => t("table.statusCount", { n, status: statusText(st) })).join(t("list.sep"));
      set(row.cells[1], label);
      row.tr.dataset.status = status;
      const total = v.runs.reduce((n, r) => n + (r.total || 0), 0) || 1;
      const epochs = v.runs.reduce((n, r) => n + r.epochs.length, 0);
      row.bar.style.width = `${Math.min(100, (100 * epochs) / total)}%`;
      set(row.progressText, `${Math.min(...v.runs.map((r) => r.epochs.length))} / ${v.runs[0].total ?? "?"}`);
      this.cols.forEach((c, i) => set(row.cells[i + 3], c.text(this.spread(v, c.value))));
      const verdict = this.verdictOf(this.model, v.name);
      const text = v.name === this.model.meta.reference ? t("verdict.reference") : verdict ? verdictText(verdict) : done === v.runs.length ? "—" : t("verdict.waiting");
      set(row.cells.at(-1), text);
      row.cells.at(-1).dataset.lower = verdict ? String(verdict.lower) : "";
      // Seeds served from identical earlier runs: which ones, each linked to its experiment.
      const shared = v.runs.filter((r) => r.sharedFrom);
      if (shared.length !== (row.shared ?? 0) && this.sharedNote) {
        row.shared = shared.length;
        row.note?.remove();
        const who = shared.length === v.runs.length ? (v.runs.length > 1 ? "every" : "one") : "some";
        const links = shared.flatMap((r, i) => [i ? t("list.sep") : "", this.sharedNote(r.sharedFrom)]);
        const note = { every: msg("table.sharedEvery"), one: msg("table.sharedRun"), some: msg("table.sharedSome") }[who];
        row.note = h("small", { class: "shared-note" }, t(note, { n: shared.length, total: v.runs.length }), links);
        row.cells[0].appendChild(row.note);
      }
    }
  }
}

function set(el, text) {
  if (el.textContent !== text) el.textContent = text;
}
