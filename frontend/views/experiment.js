// The live view of one comparison: layout() builds the page, draw() brings it up to the model,
// which only applyEvent() (experiment-model.js) changes.

import { api, exportUrl } from "../api.js";
import { CurveOverlay, LayerBars, SeriesChart, SmallMultiples, runColor } from "../charts.js";
import { h } from "../dom.js";
import { LiveStream } from "../live.js";
import { allFinal, applyEvent, markersOf, modelFrom, snapshotAt } from "./experiment-model.js";
import { boundaryFigure, histogramFigure } from "./figures.js";
import { SummaryTable } from "./summary.js";

const REGRESSION = new Set(["poly", "sine"]);
const PLANE = new Set(["moons", "circles", "xor", "spiral", "gaussians"]);

export async function render(root, ctx) {
  const id = ctx.state.route.id;
  let model = ctx.state.experiment;
  if (!model || model.id !== String(id)) {
    model = modelFrom(await api.experiment(id), runColor);
    ctx.state.experiment = model;
  }
  const view = layout(root, model, ctx);
  // A rebuilt view (large type, coming back) draws what the model already holds, then resumes.
  draw(view, model);

  const stream = new LiveStream(model.id, {
    since: model.cursor,
    onEvent: (msg) => {
      model.cursor = stream.cursor;
      const change = applyEvent(model, msg);
      if (change) draw(view, model, change);
    },
    onState: (s) => {
      model.connection = s;
      draw(view, model);
    },
  }).start();
  window.reglab.stream = stream;
  // The browser bench's "first full draw": every run over, every epoch in the model and on the loss chart.
  window.reglab.shown = () => model.runs.every((r) => r.summary && r.epochs.length >= (r.summary.epochs_run ?? 0)
    && view.drawn.get(r.id) === r.epochs.length) && view.charts.loss.idle();

  return () => {
    stream.stop();
    window.reglab.stream = null;
    window.reglab.shown = null;
  };
}

const CONNECTION_TEXT = { connecting: "connecting…", live: "● live", reconnecting: "reconnecting…", closed: "disconnected", missing: "not found", finished: "finished" };

/** Builds the page for the model (header, table, charts, snapshot panels) and returns its parts. */
function layout(root, model, ctx) {
  const task = REGRESSION.has(model.kind) ? "regression" : "classification";
  const runs = model.runs;

  const conn = h("span", { class: "conn", "data-conn": model.connection });
  const cancelAll = h("button", { type: "button", class: "danger", id: "cancel-all" }, "■ Cancel all");
  cancelAll.addEventListener("click", async () => {
    cancelAll.disabled = true;
    try {
      await api.cancelExperiment(model.id);
      ctx.toast("Cancelling every run still going…");
    } catch (err) {
      ctx.toast(`Could not cancel: ${err.message}`, "error");
      cancelAll.disabled = false;
    }
  });
  const clone = h("button", { type: "button", class: "ghost" }, "Clone into form");
  clone.addEventListener("click", async () => {
    const spec = await api.cloneExperiment(model.id);
    ctx.state.formDraft = { ...spec, name: `${model.meta.name} (copy)` };
    ctx.navigate("#/new");
  });
  const logToggle = h("input", { type: "checkbox", id: "log-scale", checked: model.logY });
  const owner = model.meta.owner ? ` · by ${model.meta.owner}` : "";
  root.append(
    h("section", { class: "intro exp-head" },
      h("div", {},
        h("h1", {}, model.meta.name || `Experiment ${model.id}`),
        h("p", { class: "muted" }, `${runs.length} run${runs.length === 1 ? "" : "s"}`, model.meta.lesson ? ` · lesson “${model.meta.lesson}”` : "", owner, " · ", conn),
        model.meta.description ? h("p", { class: "exp-description" }, model.meta.description) : null),
      h("div", { class: "exp-actions" }, cancelAll, clone,
        h("a", { class: "button ghost", href: exportUrl.csv(model.id), download: "" }, "CSV"),
        h("a", { class: "button ghost", href: exportUrl.json(model.id), download: "" }, "JSON"),
        h("a", { class: "button ghost", href: exportUrl.html(model.id), target: "_blank", rel: "noopener" }, "Report"))),
    h("p", { class: "notice fair" }, "Fair comparison: every run here uses the same data split, the same initial weights and the same minibatch order. ",
      "Under each run's name: the only settings it changes."),
  );
  const tableBox = h("div", { class: "panel table-panel" });
  root.appendChild(tableBox);
  const table = new SummaryTable(tableBox, { runs, task, onCancel: async (run, button) => {
    button.disabled = true;
    try {
      await api.cancelRun(run.id);
    } catch (err) {
      ctx.toast(`Could not cancel ${run.name}: ${err.message}`, "error");
      button.disabled = false;
    }
  } });

  const chartBox = (name, cls = "") => h("div", { class: `chart ${cls}`, "data-chart": name });
  const lossEl = chartBox("loss", "chart-tall");
  root.append(
    h("div", { class: "toolbar" },
      h("label", { class: "inline", for: "log-scale" }, logToggle, " Log scale (loss, weight norm)"),
      h("span", { class: "legend-hint" }, h("span", { class: "line-solid" }), " train ", h("span", { class: "line-dash" }), " validation ",
        h("span", { class: "marker-star" }, "★"), " best validation ", h("span", { class: "marker-x" }, "✕"), " early stop")),
    h("div", { class: "panel" }, lossEl));
  const grid = h("div", { class: "chart-grid" });
  root.appendChild(grid);
  const accEl = task === "classification" ? chartBox("accuracy") : null;
  const gapEl = chartBox("gap");
  const normEl = chartBox("norm");
  const zeroEl = chartBox("zeros");
  const gradEl = chartBox("grads");
  for (const el of [accEl, gapEl, normEl, zeroEl, gradEl]) if (el) grid.appendChild(h("div", { class: "panel" }, el));

  const specs = { runs, xMax: Math.max(...runs.map((r) => r.total || 0)) };
  const charts = {
    loss: new SeriesChart(lossEl, { ...specs, title: "Loss", yTitle: "loss", logY: model.logY, markers: true, priority: 0, minInterval: 0,
      series: [{ key: "train_loss", label: "train" }, { key: "val_loss", label: "validation", dash: "dash" }] }),
    acc: accEl && new SeriesChart(accEl, { ...specs, title: "Accuracy", yTitle: "accuracy", percent: true,
      series: [{ key: "train_acc", label: "train" }, { key: "val_acc", label: "validation", dash: "dash" }] }),
    gap: new SeriesChart(gapEl, { ...specs, title: "Overfitting gap: validation − train loss", yTitle: "gap",
      series: [{ key: "gap", label: "gap", value: (r) => r.val_loss - r.train_loss }] }),
    norm: new SeriesChart(normEl, { ...specs, title: "Weight norm ‖w‖₂ (biases excluded)", yTitle: "‖w‖₂", logY: model.logY,
      series: [{ key: "weight_l2", label: "‖w‖₂" }] }),
    zeros: new SeriesChart(zeroEl, { ...specs, title: "Weights exactly zero", yTitle: "share of weights", percent: true,
      series: [{ key: "sparsity", label: "exact zeros" }] }),
  };
  const bars = new LayerBars(gradEl, { runs });
  const lineCharts = Object.values(charts).filter(Boolean);
  logToggle.addEventListener("change", () => {
    model.logY = logToggle.checked;
    charts.loss.setLog(model.logY);
    charts.norm.setLog(model.logY);
  });

  // ---- snapshots: one epoch slider drives histograms and boundaries ---------------------------
  const slider = h("input", { type: "range", min: 0, max: 0, value: 0, id: "epoch-slider", "aria-label": "Snapshot epoch" });
  const sliderLabel = h("output", { for: "epoch-slider", class: "slider-label" }, "no snapshot yet");
  const follow = h("input", { type: "checkbox", checked: model.follow, id: "follow-live" });
  const snapSection = h("section", { class: "snapshots" },
    h("div", { class: "snap-head" },
      h("h2", {}, "Inside the networks"),
      h("label", { class: "slider" }, "Epoch ", slider, sliderLabel),
      h("label", { class: "inline", for: "follow-live" }, follow, " follow the latest")));
  root.append(snapSection);

  const multiples = [];
  const addMultiples = (kind, title, help, figure) => {
    const box = h("div", { class: "multiples" });
    snapSection.append(h("h3", {}, title), h("p", { class: "muted small" }, help), box);
    const sm = new SmallMultiples(box, { runs, figure });
    box.append(...runs.map((r) => h("div", { class: "multiple" }, sm.cell(r.id))));
    multiples.push([kind, sm]);
  };
  addMultiples("histogram", "Weight histograms", "Every weight of the network (biases excluded), darker = nearer the input. L1 piles weights up at exactly zero; L2 keeps a narrow bell around it.", histogramFigure);
  let curve = null;
  if (PLANE.has(model.kind)) {
    addMultiples("boundary", "Decision boundaries", "What each network predicts over the input plane, with the training points. A wiggly boundary that hugs single points is overfitting.", boundaryFigure);
  } else if (task === "regression") {
    const el = h("div", { class: "chart chart-tall", "data-chart": "curve" });
    snapSection.append(h("h3", {}, "Fitted curve"), h("div", { class: "panel" }, el));
    curve = new CurveOverlay(el, { runs });
  }

  const view = { conn, cancelAll, table, charts, lineCharts, bars, slider, sliderLabel, multiples, curve, drawn: new Map(), markersVersion: -1, snapshotsShown: null };
  slider.addEventListener("input", () => {
    model.follow = false;
    follow.checked = false;
    model.sliderEpoch = model.snapshotEpochs[Number(slider.value)];
    drawSnapshots(view, model);
  });
  follow.addEventListener("change", () => ((model.follow = follow.checked), drawSnapshots(view, model)));
  return view;
}

/**
 * Brings the page up to the model: hands each chart the epochs it has not seen yet (drawing
 * happens in the scheduler's frames), moves markers and snapshots, updates the table and the
 * connection badge. `change` (from applyEvent) narrows the work to one run; without it, all.
 */
function draw(view, model, change = null) {
  const receivedAt = change ? performance.now() : undefined;
  for (const run of change ? [change.run] : model.runs) {
    const from = view.drawn.get(run.id) || 0;
    if (from === run.epochs.length) continue;
    view.drawn.set(run.id, run.epochs.length);
    let grads = null;
    for (const row of run.epochs.slice(from)) {
      for (const c of view.lineCharts) c.push(run.id, row.epoch, row, receivedAt);
      grads = row.grad_norms || grads;
    }
    if (grads) view.bars.set(run.id, grads);
  }
  if (view.markersVersion !== model.markersVersion) {
    view.markersVersion = model.markersVersion;
    const { best, stopped } = markersOf(model);
    view.charts.loss.setMarkers(best, stopped);
  }
  if (!change || change.type === "snapshot") {
    if (model.follow || view.snapshotsShown === null) drawSnapshots(view, model);
  }
  view.table.update();
  drawConnection(view, model);
}

/** Shows every run's snapshot at the slider's epoch (the latest one while following). */
function drawSnapshots(view, model) {
  const epochs = model.snapshotEpochs;
  if (!epochs.length) return;
  if (model.follow) model.sliderEpoch = epochs.at(-1);
  const i = Math.max(0, epochs.indexOf(model.sliderEpoch));
  view.snapshotsShown = epochs[i];
  view.slider.max = String(epochs.length - 1);
  view.slider.value = String(i);
  view.sliderLabel.textContent = `${epochs[i]}`;
  for (const run of model.runs) {
    for (const [kind, sm] of view.multiples) {
      const snap = snapshotAt(run, kind, epochs[i]);
      if (snap) sm.show(run.id, snap);
    }
    const c = snapshotAt(run, "curve", epochs[i]);
    if (view.curve && c) view.curve.show(run.id, { ...c, points: run.points });
  }
}

// Once every run is over the socket has nothing left to say; the view says "finished".
function drawConnection(view, model) {
  const done = allFinal(model);
  view.cancelAll.hidden = done;
  if (done && !view.fitted && model.runs.some((r) => r.epochs.length < r.total)) {
    view.fitted = true;
    for (const c of view.lineCharts) c.fitX();
  }
  const state = done && model.connection === "live" ? "finished" : model.connection;
  if (view.conn.dataset.conn !== state) {
    view.conn.dataset.conn = state;
    view.conn.textContent = CONNECTION_TEXT[state] || state;
  }
}
