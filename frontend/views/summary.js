// The per-run table: progress, status, cancel, and the summary columns; sortable, updated once per frame.

import { register, schedule } from "../charts.js";
import { fmt, h, pct, seconds } from "../dom.js";
import { isFinal } from "./experiment-model.js";

const STATUS_TEXT = {
  queued: "queued", running: "running", completed: "completed", stopped_early: "stopped early",
  diverged: "diverged", cancelled: "cancelled", failed: "failed", interrupted: "interrupted",
};

/** What each column shows for a run (live values until the summary arrives) and how it sorts. */
function columns(task) {
  const last = (r) => r.epochs.at(-1);
  return [
    { key: "name", label: "Run", value: (r) => r.index, text: null },
    { key: "status", label: "Status", value: (r) => r.status, text: null },
    { key: "progress", label: "Epoch", value: (r) => r.epochs.length / (r.total || 1), text: null },
    { key: "best_epoch", label: "Best epoch", value: (r) => r.summary?.best_epoch ?? r.best?.epoch, text: (v) => (v ? String(v) : "—") },
    { key: "best_val_loss", label: "Best val loss", value: (r) => r.summary?.best_val_loss ?? r.best?.val, text: fmt },
    task === "regression"
      ? { key: "test", label: "Test loss", value: (r) => r.summary?.test_loss, text: fmt }
      : { key: "test", label: "Test accuracy", value: (r) => r.summary?.test_acc, text: pct },
    { key: "gap", label: "Gap (val − train)", value: (r) => r.summary?.gap ?? (last(r) ? last(r).val_loss - last(r).train_loss : null), text: fmt },
    { key: "sparsity", label: "Exact zeros", value: (r) => r.summary?.sparsity ?? last(r)?.sparsity, text: pct },
    { key: "seconds", label: "Time", value: (r) => r.summary?.seconds ?? last(r)?.seconds, text: seconds },
  ];
}

export class SummaryTable {
  constructor(el, { runs, task, onCancel }) {
    this.el = el;
    this.runs = runs;
    this.cols = columns(task);
    this.sort = { key: "name", dir: 1 };
    this.rows = new Map();
    register(this, { cheap: true });
    const headRow = h("tr", {}, this.cols.map((c) => {
      const button = h("button", { type: "button", class: "sort", "data-sort": c.key }, c.label, h("span", { class: "sort-mark", "aria-hidden": "true" }));
      button.addEventListener("click", () => this.sortBy(c.key));
      return h("th", { scope: "col", "aria-sort": c.key === "name" ? "ascending" : "none" }, button);
    }), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")));
    this.tbody = h("tbody");
    for (const run of runs) {
      const cancel = h("button", { type: "button", class: "ghost small danger", "data-cancel": run.id, title: `Stop ${run.name}` }, "■ Cancel");
      cancel.addEventListener("click", () => onCancel(run, cancel));
      const cells = this.cols.map((c) => h("td", { "data-col": c.key }));
      cells[0].append(h("span", { class: "swatch", style: { background: run.color } }), h("span", { class: "run-name" }, run.name),
        h("small", { class: "run-changes" }, run.changes || "the base setup"));
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
      const label = STATUS_TEXT[run.status] || run.status;
      if (status.dataset.status !== run.status || status.title !== (run.message || "")) {
        status.dataset.status = run.status;
        status.title = run.message || "";
        status.replaceChildren(h("span", { class: `badge status-${run.status}` }, label));
        if (run.message && run.status !== "running") status.appendChild(h("small", { class: "status-message" }, run.message));
      }
      const done = run.epochs.length;
      row.bar.style.width = `${Math.min(100, (100 * done) / (run.total || 1))}%`;
      row.progressText.textContent = `${done} / ${run.total ?? "?"}`;
      this.cols.slice(3).forEach((c, i) => {
        const text = c.text(c.value(run));
        if (row.cells[i + 3].textContent !== text) row.cells[i + 3].textContent = text;
      });
      row.cancel.hidden = isFinal(run.status);
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
