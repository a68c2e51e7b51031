// The live view of one comparison: curves, weights, boundaries and the run table, fed by the websocket.

import { api, exportUrl } from "../api.js";
import { CurveOverlay, LayerBars, SeriesChart, SmallMultiples, runColor } from "../charts.js";
import { h } from "../dom.js";
import { LiveStream } from "../live.js";
import { boundaryFigure, histogramFigure } from "./figures.js";
import { diff } from "./schema.js";
import { SummaryTable, isFinal } from "./summary.js";

const REGRESSION = new Set(["poly", "sine"]);
const PLANE = new Set(["moons", "circles", "xor", "spiral", "gaussians"]);

/** "l2 = 0.01, dropout = 0.5": what a run changes from the comparison's base setup. */
function changesOf(spec, base) {
  if (!base) return "";
  const flat = (o, pre = "") => Object.entries(o).flatMap(([k, v]) =>
    v && typeof v === "object" && !Array.isArray(v) ? flat(v, `${pre}${k}.`) : [[`${pre}${k}`, v]]);
  return flat(diff(spec, base)).map(([path, v]) => `${path.split(".").pop()} = ${Array.isArray(v) ? v.join("×") : v}`).join(", ");
}

/** The experiment's data as the page keeps it: survives a view rebuild (large type) without refetching. */
function modelFrom(meta) {
  const runs = meta.runs.map((r, index) => ({
    id: r.id,
    name: r.name,
    index,
    color: runColor(index),
    total: r.spec.train.epochs,
    status: r.status,
    message: r.message,
    epochs: [],
    best: null,
    stoppedAt: null,
    summary: r.summary || null,
    snapshots: { histogram: new Map(), boundary: new Map(), curve: new Map() },
    grads: null,
    points: null,
    changes: changesOf(r.spec, meta.spec?.base),
  }));
  const kind = meta.runs[0].spec.data.kind;
  return { id: String(meta.id), meta, runs, byId: new Map(runs.map((r) => [r.id, r])), cursor: 0, connection: "connecting",
    duplicates: 0, kind, snapshotEpochs: [], follow: true, sliderEpoch: null, logY: false };
}

export async function render(root, ctx) {
  const id = ctx.state.route.id;
  let model = ctx.state.experiment;
  if (!model || model.id !== String(id)) {
    model = modelFrom(await api.experiment(id));
    ctx.state.experiment = model;
  }
  const task = REGRESSION.has(model.kind) ? "regression" : "classification";
  const runs = model.runs;

  // ---- layout ---------------------------------------------------------------------------------
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
  const snapHead = h("div", { class: "snap-head" },
    h("h2", {}, "Inside the networks"),
    h("label", { class: "slider" }, "Epoch ", slider, sliderLabel),
    h("label", { class: "inline", for: "follow-live" }, follow, " follow the latest"));
  root.append(h("section", { class: "snapshots" }, snapHead));
  const snapSection = root.lastChild;

  const multiples = [];
  const addMultiples = (title, help, figure) => {
    const box = h("div", { class: "multiples" });
    snapSection.append(h("h3", {}, title), h("p", { class: "muted small" }, help), box);
    const sm = new SmallMultiples(box, { runs, figure });
    box.append(...runs.map((r) => h("div", { class: "multiple" }, sm.cell(r.id))));
    multiples.push(["histogram", sm]);
    return sm;
  };
  const hist = addMultiples("Weight histograms", "Every weight of the network (biases excluded), darker = nearer the input. L1 piles weights up at exactly zero; L2 keeps a narrow bell around it.", histogramFigure);
  let boundary = null;
  let curve = null;
  if (PLANE.has(model.kind)) {
    boundary = addMultiples("Decision boundaries", "What each network predicts over the input plane, with the training points. A wiggly boundary that hugs single points is overfitting.", boundaryFigure);
    multiples[multiples.length - 1][0] = "boundary";
  } else if (task === "regression") {
    const el = h("div", { class: "chart chart-tall", "data-chart": "curve" });
    snapSection.append(h("h3", {}, "Fitted curve"), h("div", { class: "panel" }, el));
    curve = new CurveOverlay(el, { runs });
  }

  function snapshotAt(run, kind, epoch) {
    let best = null;
    for (const [e, data] of run.snapshots[kind]) if (e <= epoch && (!best || e > best.epoch)) best = { epoch: e, data };
    return best;
  }

  function showSnapshots() {
    const epochs = model.snapshotEpochs;
    if (!epochs.length) return;
    if (model.follow) model.sliderEpoch = epochs.at(-1);
    const i = Math.max(0, epochs.indexOf(model.sliderEpoch));
    slider.max = String(epochs.length - 1);
    slider.value = String(i);
    sliderLabel.textContent = `${epochs[i]}`;
    for (const run of runs) {
      for (const [kind, sm] of multiples) {
        const snap = snapshotAt(run, kind, epochs[i]);
        if (snap) sm.show(run.id, snap);
      }
      const c = snapshotAt(run, "curve", epochs[i]);
      if (curve && c) curve.show(run.id, { ...c, points: run.points });
    }
  }
  slider.addEventListener("input", () => {
    model.follow = false;
    follow.checked = false;
    model.sliderEpoch = model.snapshotEpochs[Number(slider.value)];
    showSnapshots();
  });
  follow.addEventListener("change", () => ((model.follow = follow.checked), showSnapshots()));

  // ---- events → model → charts ----------------------------------------------------------------
  let markersDirty = false;
  function markers() {
    const best = runs.filter((r) => r.best).map((r) => ({ x: r.summary?.best_epoch ?? r.best.epoch, y: r.summary?.best_val_loss ?? r.best.val, color: r.color, name: r.name }));
    const stopped = runs.filter((r) => r.stoppedAt).map((r) => {
      const row = r.epochs.find((e) => e.epoch === r.stoppedAt) || r.epochs.at(-1);
      return { x: r.stoppedAt, y: row ? row.val_loss : null, color: r.color, name: r.name };
    });
    charts.loss.setMarkers(best, stopped);
  }

  function drawEpoch(run, row, receivedAt) {
    for (const c of lineCharts) c.push(run.id, row.epoch, row, receivedAt);
    if (row.grad_norms) bars.set(run.id, row.grad_norms);
  }

  function onEpoch(run, msg, receivedAt) {
    const last = run.epochs.at(-1);
    if (last && msg.epoch <= last.epoch) {
      model.duplicates += 1; // a replay overlapping what we hold: counted, never drawn twice
      return;
    }
    run.epochs.push(msg);
    if (run.status === "queued") run.status = "running";
    if (Number.isFinite(msg.val_loss) && (!run.best || msg.val_loss < run.best.val)) {
      run.best = { epoch: msg.epoch, val: msg.val_loss };
      markersDirty = true;
    }
    drawEpoch(run, msg, receivedAt);
  }

  function onEvent(msg) {
    const receivedAt = performance.now();
    model.cursor = stream.cursor;
    const run = model.byId.get(msg.run_id);
    if (!run) return;
    if (msg.type === "epoch") onEpoch(run, msg, receivedAt);
    else if (msg.type === "snapshot") {
      if (!run.snapshots[msg.kind]) run.snapshots[msg.kind] = new Map();
      run.snapshots[msg.kind].set(msg.epoch, msg.data);
      // Data points come once per run, with its first boundary or curve snapshot.
      if (msg.data.train) run.points = { train: msg.data.train, val: msg.data.val };
      if (!model.snapshotEpochs.includes(msg.epoch)) {
        model.snapshotEpochs.push(msg.epoch);
        model.snapshotEpochs.sort((a, b) => a - b);
      }
      if (model.follow) showSnapshots();
    } else if (msg.type === "status") {
      run.status = msg.status;
      run.message = msg.message || null;
      if (msg.status === "stopped_early") {
        run.stoppedAt = msg.epoch ?? run.epochs.at(-1)?.epoch ?? null;
        markersDirty = true;
      }
    } else if (msg.type === "summary") {
      run.summary = msg;
      run.status = msg.status || run.status;
      if (run.status === "stopped_early" && !run.stoppedAt) run.stoppedAt = msg.epochs_run;
      markersDirty = true;
    }
    if (markersDirty) {
      markersDirty = false;
      markers();
    }
    table.update();
    showConnection();
  }

  // Once every run is over the socket has nothing left to say; the view says "finished".
  function showConnection() {
    const allDone = runs.every((r) => isFinal(r.status));
    cancelAll.hidden = allDone;
    if (allDone && runs.some((r) => r.epochs.length < r.total)) for (const c of lineCharts) c.fitX();
    if (allDone && model.connection === "live") {
      conn.dataset.conn = "finished";
      conn.textContent = "finished";
    }
  }

  // A rebuilt view (large type, coming back) redraws what the model already holds, then resumes.
  for (const run of runs) for (const row of run.epochs) drawEpoch(run, row);
  markers();
  showSnapshots();

  const stream = new LiveStream(model.id, {
    since: model.cursor,
    onEvent,
    onState: (s) => {
      model.connection = s;
      conn.dataset.conn = s;
      conn.textContent = { connecting: "connecting…", live: "● live", reconnecting: "reconnecting…", closed: "disconnected", missing: "not found" }[s] || s;
      showConnection();
    },
  }).start();
  window.reglab.stream = stream;

  return () => {
    stream.stop();
    window.reglab.stream = null;
  };
}

