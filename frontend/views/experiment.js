// The live view of one comparison: layout() builds the page, draw() brings it up to the model,
// which only applyEvent() (experiment-model.js) changes.

import { api, exportUrl, pageUrl } from "../api.js";
import { CurveOverlay, LayerBars, SmallMultiples, SweepChart, runColor, schedule, scheduler } from "../charts.js";
import { h } from "../dom.js";
import { msg, t, tOr } from "../i18n.js";
import { LiveChart } from "../livechart.js";
import { LiveStream } from "../live.js";
import { allFinal, applyEvent, markersOf, modelFrom, picturedRuns, preloadColumns, replayModel, replayTo, snapshotAt, spread, sweepPoints, variantStats, verdictOf } from "./experiment-model.js";
import { boundaryFigure, histogramFigure } from "./figures.js";
import { DiagnosisPanel } from "./diagnosis.js";
import { penaltyPair, ShrinkPanel } from "./shrink.js";
import { EnsemblePanel, thinnedVariants } from "./ensemble.js";
import { SummaryTable, VariantTable } from "./summary.js";

const REGRESSION = new Set(["poly", "sine"]);
const PLANE = new Set(["moons", "circles", "xor", "spiral", "gaussians"]);

// The time-series charts: what each plots (train solid, validation dashed) and which metric gets
// the band over replicates. The loss chart draws every frame it can; the others 4 times a second. Plotly itself (axes, hover, markers)
// catches up every 2.5 s on the loss chart, 10 s on the others, and at once under the pointer.
const SERIES_CHARTS = [
  { key: "loss", title: msg("chart.loss.title"), yTitle: msg("chart.loss.y"), logY: true, markers: true, priority: 0, minInterval: 0, syncMs: 2500,
    metrics: [{ key: "train_loss", label: msg("chart.train") }, { key: "val_loss", label: msg("chart.validation"), dash: "dash", band: true }] },
  { key: "accuracy", task: "classification", title: msg("chart.accuracy.title"), yTitle: msg("chart.accuracy.y"), percent: true,
    metrics: [{ key: "train_acc", label: msg("chart.train") }, { key: "val_acc", label: msg("chart.validation"), dash: "dash", band: true }] },
  { key: "gap", title: msg("chart.gap.title"), yTitle: msg("chart.gap.y"),
    metrics: [{ key: "gap", label: msg("chart.gap.y"), value: (r) => r.val_loss - r.train_loss, band: true }] },
  { key: "norm", title: msg("chart.norm.title"), yTitle: msg("chart.norm.y"), logY: true,
    metrics: [{ key: "weight_l2", label: msg("chart.norm.y"), band: true }] },
  { key: "zeros", title: msg("chart.zeros.title"), yTitle: msg("chart.zeros.y"), percent: true,
    metrics: [{ key: "sparsity", label: msg("chart.zeros.label"), band: true }] },
  // Each epoch's mean |Δw| per update: Adagrad's keeps shrinking, RMSProp's levels off (the
  // optimizers lesson). Always on a log axis: the steps of different optimizers differ by decades.
  { key: "step", title: msg("chart.step.title"), yTitle: msg("chart.step.y"), logY: true, alwaysLog: true,
    metrics: [{ key: "step_size", label: msg("chart.step.label"), band: true }] },
];

export async function render(root, ctx) {
  const id = ctx.route.id;
  let model = ctx.state.experiment;
  if (!model || model.id !== String(id)) {
    // Every run's stored epochs in one request, with the cursor they are complete through; the
    // stream then starts after that cursor instead of replaying every epoch one message each.
    // The experiment is read after the history: a status or summary logged before the cursor is
    // in it, one logged after comes again by the stream (the last one wins either way).
    const [history] = await Promise.all([api.history(id), ctx.loadStatuses()]);
    if (ctx.signal.aborted) return null;
    const meta = await api.experiment(id);
    if (ctx.signal.aborted) return null; // left while loading: no stream, no drawing
    model = modelFrom(meta, runColor);
    preloadColumns(model, history);
    ctx.state.experiment = model;
  }
  // The page shows the model, or a replay of it (its curves growing again from nothing).
  let view = null;
  let shown = null;
  let stopDrawing = () => {};
  let stopReplay = null;
  const changed = () => {
    view.stale = true;
    scheduler.request();
  };
  const show = (m) => {
    stopDrawing();
    root.replaceChildren();
    shown = m;
    view = layout(root, m, ctx, { sharedNote: (sourceId) => sharedNote(model, sourceId), replay: () => (stopReplay ? stopReplay() : startReplay()) });
    view.refetch = refetch;
    // Messages only change the model; draw() brings the page up to it once per frame. A rebuilt
    // view (large type, coming back) draws what the model already holds, then resumes.
    stopDrawing = scheduler.beforeFrame(() => draw(view, shown));
    changed();
  };
  // Replay: a copy of the finished model grows again at REPLAY_EPOCHS_PER_S, then the page shows
  // the model itself again. The stream goes on feeding the model meanwhile.
  const startReplay = () => {
    const replay = replayModel(model);
    show(replay);
    const t0 = performance.now();
    const timer = setInterval(() => {
      if (replayTo(replay, Math.floor(((performance.now() - t0) / 1000) * REPLAY_EPOCHS_PER_S))) stopReplay();
      else changed();
    }, 1000 / REPLAY_EPOCHS_PER_S);
    stopReplay = () => {
      clearInterval(timer);
      stopReplay = null;
      show(model);
    };
  };
  // Verdicts and diagnoses are the API's: fetched again once every run is over.
  const refetch = async () => {
    const fresh = await api.experiment(model.id);
    if (ctx.signal?.aborted) return;
    Object.assign(model.meta, { comparisons: fresh.comparisons, aggregates: fresh.aggregates });
    for (const r of fresh.runs) {
      const run = model.byId.get(r.id);
      if (run) run.diagnosis = r.diagnosis || null;
    }
    changed();
  };
  show(model);
  // The pictured runs' snapshots by REST: the stream starts after the history's cursor, so it
  // brings only the newer ones (one it brings that this already holds is not redrawn). Asked for
  // when the pictures come near the screen, or 2 s after the view is built: a finished 2,000-epoch
  // run has 160 snapshots (1.2 MB, six runs pictured), read, sent and parsed while the loss chart
  // on the first screen waited for the same two cores.
  if (!model.snapshotsFetched) {
    model.snapshotsFetched = true;
    whenNear(view.snapSection, SNAPSHOTS_AFTER_MS, () => Promise.all(picturedRuns(model).map((r) => api.snapshots(r.id)))
      .then((lists) => {
        for (const snap of lists.flat()) applyEvent(model, { ...snap, type: "snapshot" });
        changed();
      })
      .catch((err) => {
        model.snapshotsFetched = false; // tried again when the view is next built
        ctx.toast(t("exp.error.pictures", { error: err.message }), "error");
      }));
  }

  const stream = new LiveStream(model.id, {
    since: model.cursor,
    // With seeds the page pictures each variant's first one: the others' snapshots (boundary
    // grids, more than half of an R = 5 lesson's stream) are left on the server.
    snapshots: model.repeats > 1 ? picturedRuns(model).map((r) => r.id) : null,
    onEvent: (msg) => {
      model.cursor = stream.cursor;
      const change = applyEvent(model, msg);
      if (shown !== model) return; // a replay is on screen: the page shows the model when it ends
      if (change?.type === "epoch") view.received.push(performance.now());
      if (change) changed();
    },
    onState: (s) => {
      model.connection = s;
      if (shown === model) changed();
    },
  }).start();
  window.reglab.stream = stream;
  // The browser bench's "first full draw": every run over, every epoch in the model and on the loss chart.
  window.reglab.shown = () => model.runs.every((r) => r.summary && r.epochs.length >= (r.summary.epochs_run ?? 0)
    && view.charts.loss.fed.get(r.id) === r.epochs.length) && view.charts.loss.idle();

  return () => {
    stopReplay?.();
    stopDrawing();
    stream.stop();
    window.reglab.stream = null;
    window.reglab.shown = null;
  };
}

const SNAPSHOTS_AFTER_MS = 2000;

/** `fn()`, once: when `el` comes within 600 px of the screen, or after `ms`. */
function whenNear(el, ms, fn) {
  let io = null;
  const once = () => {
    if (!timer) return;
    clearTimeout(timer);
    timer = null;
    io?.disconnect();
    fn();
  };
  let timer = setTimeout(once, ms);
  io = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && once(), { rootMargin: "600px" });
  io.observe(el);
}

const CONNECTION_TEXT = { connecting: msg("conn.connecting"), live: msg("conn.live"), reconnecting: msg("conn.reconnecting"), closed: msg("conn.closed"), missing: msg("conn.missing"), finished: msg("conn.finished"), replay: msg("conn.replay") };
// A replay's pace: watchable, and a 200-epoch lesson takes 10 s.
const REPLAY_EPOCHS_PER_S = 20;

/**
 * "computed once — same numbers as run N", N linking to that run's experiment (GET /api/runs/N
 * says which; asked once per source run and kept in the model).
 */
function sharedNote(model, sourceId) {
  model.sources ??= new Map();
  if (!model.sources.has(sourceId)) model.sources.set(sourceId, api.run(sourceId).then((r) => r.experiment_id));
  const link = h("a", { class: "shared-link", "data-run": String(sourceId) }, t("exp.sourceRun", { id: String(sourceId) }));
  model.sources.get(sourceId).then((experimentId) => (link.href = `#/experiments/${experimentId}`)).catch(() => {});
  return link;
}

/** Builds the page for the model (header, table, charts, snapshot panels) and returns its parts. */
function layout(root, model, ctx, { sharedNote, replay }) {
  const task = REGRESSION.has(model.kind) ? "regression" : "classification";
  const runs = model.runs;

  const conn = h("span", { class: "conn", "data-conn": model.connection }, CONNECTION_TEXT[model.connection] ? t(CONNECTION_TEXT[model.connection]) : model.connection);
  const cancelAll = h("button", { type: "button", class: "danger", id: "cancel-all" }, t("exp.cancelAll"));
  cancelAll.addEventListener("click", async () => {
    cancelAll.disabled = true;
    try {
      await api.cancelExperiment(model.id);
      ctx.toast(t("exp.cancelling"));
    } catch (err) {
      ctx.toast(t("exp.error.cancel", { error: err.message }), "error");
      cancelAll.disabled = false;
    }
  });
  const clone = h("button", { type: "button", class: "ghost" }, t("exp.clone"));
  clone.addEventListener("click", async () => {
    const spec = await api.cloneExperiment(model.id);
    ctx.state.formDraft = { ...spec, name: t("exp.copyName", { name: model.meta.name }) };
    ctx.navigate("#/new");
  });
  const logToggle = h("input", { type: "checkbox", id: "log-scale", checked: model.logY });
  const owner = model.meta.owner ? ` · ${t("exp.by", { owner: model.meta.owner })}` : "";
  const title = h("h1", {}, model.meta.name || t("exp.untitled", { id: String(model.id) }));
  const description = model.meta.description ? h("p", { class: "exp-description" }, model.meta.description) : null;
  // A lesson's run (a student's launch, a poll's) carries the lesson's English title and
  // description: said from the catalog once the lessons are known; words someone wrote stay theirs.
  const translateDescription = () => {
    const l = ctx.state.lessons?.find((x) => x.name === model.meta.lesson);
    if (!l) return;
    if (model.meta.name === l.title) title.textContent = tOr(`lesson.${l.name}.title`, l.title);
    if (description && model.meta.description === l.description) description.textContent = tOr(`lesson.${l.name}.description`, l.description);
  };
  translateDescription();
  root.append(
    h("section", { class: "intro exp-head" },
      h("div", {},
        title,
        h("p", { class: "muted" }, runs.length === 1 ? t("exp.oneRun", { n: 1 }) : t("exp.runs", { n: runs.length }), model.meta.lesson ? ` · ${t("exp.lesson", { lesson: model.meta.lesson })}` : "", owner, " · ", conn),
        model.meta.challenge_id ? h("p", { class: "muted" }, model.meta.challenge_role === "entry" ? t("exp.challenge.entryOf") : t("exp.challenge.baselinesOf"),
          h("a", { href: pageUrl.challenge(model.meta.challenge_id), id: "challenge-link" }, t("exp.challenge.link", { id: String(model.meta.challenge_id) })),
          model.meta.runs.some((r) => r.summary?.extra?.withheld) ? t("exp.challenge.hidden") : "") : null,
        description),
      h("div", { class: "exp-actions" }, cancelAll, clone,
        h("a", { class: "button ghost", href: exportUrl.csv(model.id), download: "" }, "CSV"),
        h("a", { class: "button ghost", href: exportUrl.json(model.id), download: "" }, "JSON"),
        h("a", { class: "button ghost", href: exportUrl.html(model.id), target: "_blank", rel: "noopener" }, t("exp.report")))),
    h("p", { class: "notice fair" }, t("exp.fair")),
  );
  const tableBox = h("div", { class: "panel table-panel" });
  root.appendChild(tableBox);
  const table = model.repeats > 1 ? new VariantTable(tableBox, { model, task, spread, verdictOf, sharedNote }) : new SummaryTable(tableBox, { runs, task, sharedNote, readOnly: model.replaying, onCancel: async (run, button) => {
    button.disabled = true;
    try {
      await api.cancelRun(run.id);
    } catch (err) {
      ctx.toast(t("exp.error.cancelRun", { run: run.name, error: err.message }), "error");
      button.disabled = false;
    }
  } });

  const diagnosisBox = h("section", { class: "panel diagnosis-panel", hidden: true });
  root.appendChild(diagnosisBox);
  const lessonTitle = (name) => {
    const l = ctx.state.lessons?.find((x) => x.name === name);
    return l ? tOr(`lesson.${l.name}.title`, l.title) : name;
  };
  const diagnosis = new DiagnosisPanel(diagnosisBox, { model, lessonTitle, navigate: ctx.navigate });
  if (!ctx.state.lessons) ctx.loadLessons().then(() => ((diagnosis.key = null), diagnosis.update(), translateDescription())).catch(() => {});

  const chartBox = (name, cls = "") => h("div", { class: `chart ${cls}`, "data-chart": name });
  const lossEl = chartBox("loss", "chart-tall");
  const banded = model.repeats > 1;
  const seedsToggle = banded ? h("input", { type: "checkbox", id: "show-seeds", checked: model.showReplicates }) : null;
  // Shared runs arrive whole: a replay lets a student watch their curves grow all the same.
  const replayButton = model.runs.some((r) => r.sharedFrom) || model.replaying
    ? h("button", { type: "button", class: "ghost small", id: "replay", disabled: !model.replaying && !allFinal(model) },
      model.replaying ? t("exp.replay.stop") : t("exp.replay.start", { n: REPLAY_EPOCHS_PER_S }))
    : null;
  replayButton?.addEventListener("click", replay);
  root.append(
    h("div", { class: "toolbar" },
      replayButton,
      h("label", { class: "inline", for: "log-scale" }, logToggle, ` ${t("exp.logScale")}`),
      banded ? h("label", { class: "inline", for: "show-seeds" }, seedsToggle, ` ${t("exp.showSeeds", { n: model.repeats })}`) : null,
      h("span", { class: "legend-hint" }, h("span", { class: "line-solid" }), ` ${t("chart.train")} `, h("span", { class: "line-dash" }), ` ${t("chart.validation")} `,
        banded ? [h("span", { class: "band-swatch" }), ` ${t("exp.band", { n: model.repeats })} `] : null,
        h("span", { class: "marker-star" }, "★"), ` ${t("chart.marker.best")} `, h("span", { class: "marker-x" }, "✕"), ` ${t("chart.marker.stop")}`)),
    h("div", { class: "panel" }, lossEl));
  // A sweep (variants that differ in one number): the lecture's U, loss against that number.
  let sweep = null;
  if (model.meta.sweep) {
    const sweepEl = chartBox("sweep", "chart-tall");
    root.append(h("div", { class: "panel" }, sweepEl,
      h("p", { class: "muted small chart-note" }, banded ? t("exp.sweep.pointSeeds", { n: model.repeats }) : t("exp.sweep.point"), " ", t("exp.sweep.note"))));
    sweep = new SweepChart(sweepEl, { field: model.meta.sweep.field, log: model.meta.sweep.log, repeats: model.repeats, logY: model.logY });
  }
  const grid = h("div", { class: "chart-grid" });
  root.appendChild(grid);

  const xMax = Math.max(...runs.map((r) => r.total || 0));
  const charts = {};
  for (const spec of SERIES_CHARTS) {
    if (spec.task && spec.task !== task) continue;
    const el = spec.key === "loss" ? lossEl : chartBox(spec.key);
    if (spec.key !== "loss") grid.appendChild(h("div", { class: "panel" }, el));
    charts[spec.key] = new LiveChart(el, { title: t(spec.title), yTitle: t(spec.yTitle), xMax, percent: spec.percent, markers: spec.markers,
      logY: spec.logY && (spec.alwaysLog || model.logY), priority: spec.priority ?? 1, minInterval: spec.minInterval ?? 250, syncMs: spec.syncMs ?? 10000,
      series: seriesOf(spec, model) });
    charts[spec.key].spec = spec;
    // Each chart takes its points from the model as it draws: one off screen costs nothing
    // until it comes into view (or the stream pauses).
    charts[spec.key].pull = (chart) => feed(chart, model, view);
  }
  // A comparison still training: the charts on screen make their figure now, before the stream
  // opens. A finished one's make it at their first draw, with every point.
  if (!allFinal(model)) for (const c of Object.values(charts)) if (c.visible) c.prepare();
  const gradEl = chartBox("grads");
  grid.appendChild(h("div", { class: "panel" }, gradEl));
  const bars = new LayerBars(gradEl, { runs: banded ? model.variants.map((v) => ({ id: v.name, name: v.name, color: v.color })) : runs });
  const lineCharts = Object.values(charts);
  seedsToggle?.addEventListener("change", () => {
    model.showReplicates = seedsToggle.checked;
    for (const c of lineCharts) c.hide((s) => s.replicate && !model.showReplicates);
  });
  logToggle.addEventListener("change", () => {
    model.logY = logToggle.checked;
    charts.loss.setLog(model.logY);
    charts.norm.setLog(model.logY);
    sweep?.setLog(model.logY);
  });

  // L1 against L2 by weight size, when the comparison has an L1 variant and an L2 variant.
  const pair = penaltyPair(model);
  const shrinkBox = pair ? h("section", { class: "panel shrink-panel" }) : null;
  if (pair) root.append(shrinkBox);
  const shrink = pair ? new ShrinkPanel(shrinkBox, { model, pair }) : null;
  // Dropout's thinned nets against the scaled net, for the variants that asked for them.
  const thinned = thinnedVariants(model);
  const ensembleBox = thinned.length ? h("section", { class: "panel ensemble-panel" }) : null;
  if (ensembleBox) root.append(ensembleBox);
  const ensemble = ensembleBox ? new EnsemblePanel(ensembleBox, { model, variants: thinned }) : null;

  // ---- snapshots: one epoch slider drives histograms and boundaries ---------------------------
  const slider = h("input", { type: "range", min: 0, max: 0, value: 0, id: "epoch-slider", "aria-label": t("exp.snap.slider") });
  const sliderLabel = h("output", { for: "epoch-slider", class: "slider-label" }, t("exp.snap.none"));
  const follow = h("input", { type: "checkbox", checked: model.follow, id: "follow-live" });
  const snapSection = h("section", { class: "snapshots" },
    h("div", { class: "snap-head" },
      h("h2", {}, t("exp.snap.title")),
      h("label", { class: "slider" }, `${t("table.epoch")} `, slider, sliderLabel),
      h("label", { class: "inline", for: "follow-live" }, follow, ` ${t("exp.snap.follow")}`)));
  root.append(snapSection);

  // With replicates, one network per variant is pictured: its first seed.
  const pictured = picturedRuns(model);
  if (banded) snapSection.append(h("p", { class: "muted small" }, t("exp.snap.firstSeed", { n: model.repeats })));
  const multiples = [];
  const addMultiples = (kind, title, help, figure) => {
    const box = h("div", { class: "multiples" });
    snapSection.append(h("h3", {}, title), h("p", { class: "muted small" }, help), box);
    const sm = new SmallMultiples(box, { runs: pictured, figure });
    box.append(...pictured.map((r) => h("div", { class: "multiple" }, sm.cell(r.id))));
    multiples.push([kind, sm]);
  };
  addMultiples("histogram", t("exp.snap.hist"), t("exp.snap.histHelp"), histogramFigure);
  let curve = null;
  if (PLANE.has(model.kind)) {
    addMultiples("boundary", t("exp.snap.boundary"), t("exp.snap.boundaryHelp"), boundaryFigure);
  } else if (task === "regression") {
    const el = h("div", { class: "chart chart-tall", "data-chart": "curve" });
    snapSection.append(h("h3", {}, t("chart.curve.title")), h("div", { class: "panel" }, el));
    curve = new CurveOverlay(el, { runs: pictured });
  }

  const view = { conn, cancelAll, replayButton, table, diagnosis, shrink, ensemble, charts, lineCharts, bars, slider, sliderLabel, multiples, curve, banded, pictured, sweep, snapSection,
    stale: true, received: [], fed: new Map(), grads: new Map(), gradsChanged: new Set(), meansThrough: new Map(), markersVersion: -1, snapshotsVersion: -1 };
  slider.addEventListener("input", () => {
    model.follow = false;
    follow.checked = false;
    model.sliderEpoch = model.snapshotEpochs[Number(slider.value)];
    drawSnapshots(view, model);
  });
  follow.addEventListener("change", () => ((model.follow = follow.checked), drawSnapshots(view, model)));
  return view;
}

/** The series a chart plots: one line per run and metric; with replicates, per variant a band, a mean line and the replicates (hidden). */
function seriesOf(spec, model) {
  const out = [];
  const label = (name, m) => (spec.metrics.length > 1 ? `${name} · ${t(m.label)}` : name);
  const style = (m) => ({ dash: m.dash || "solid", width: m.dash ? 2 : 2.2 });
  if (model.repeats === 1) {
    for (const run of model.runs) for (const m of spec.metrics) out.push({ id: `${run.id}:${m.key}`, name: label(run.name, m), color: run.color, ...style(m) });
    return out;
  }
  for (const v of model.variants) {
    for (const m of spec.metrics) {
      if (m.band) out.push({ id: `band:${v.name}:${m.key}`, name: t("chart.range", { name: v.name }), color: v.color, band: true });
      out.push({ id: `mean:${v.name}:${m.key}`, name: label(v.name, m), color: v.color, ...style(m) });
      for (const run of v.runs) {
        out.push({ id: `${run.id}:${m.key}`, name: label(run.name, m), group: `${v.name}:${m.key}`, groupName: label(t("chart.eachSeed", { name: v.name }), m),
          color: v.color, dash: m.dash || "solid", width: 1, opacity: 0.45, hidden: !model.showReplicates, replicate: true });
      }
    }
  }
  return out;
}

/** A metric's value in a row as the chart plots it (percent charts ×100), or null when the row lacks it. */
function valueOf(chart, m, row) {
  const v = m.value ? m.value(row) : row[m.key];
  if (v === null || v === undefined) return null;
  return chart.percent && typeof v === "number" ? v * 100 : v;
}

/**
 * Brings the page up to the model, once per frame (a scheduler hook): tells the line charts there
 * is more to take (each takes it as it draws: `feed`), moves gradient bars, markers and
 * snapshots, and updates the table and the connection badge.
 */
function draw(view, model) {
  if (!view.stale) return;
  view.stale = false;
  let fresh = false;
  for (const run of model.runs) {
    const from = view.fed.get(run.id) || 0;
    if (from === run.epochs.length) continue;
    view.fed.set(run.id, run.epochs.length);
    fresh = true;
    let grads = null;
    for (let i = run.epochs.length - 1; i >= from && !grads; i--) grads = run.epochs[i].grad_norms;
    if (grads) {
      view.grads.set(run.id, grads);
      if (!view.banded) view.bars.set(run.id, grads);
      else view.gradsChanged.add(run.variant);
    }
  }
  // With replicates a status alone can add mean points (a seed that ended no longer holds its
  // variant's curve back).
  if (fresh || view.banded) for (const chart of view.lineCharts) schedule(chart, fresh);
  if (view.banded) drawVariantBars(view, model);
  view.charts.loss.noteReceived(view.received);
  view.received = [];
  if (view.markersVersion !== model.markersVersion) {
    view.markersVersion = model.markersVersion;
    const { best, stopped } = markersOf(model);
    // With replicates, a star per seed would bury the bands: only early stops are marked.
    view.charts.loss.setMarkers(view.banded ? [] : best, stopped);
  }
  if (view.snapshotsVersion !== model.snapshotsVersion) {
    view.snapshotsVersion = model.snapshotsVersion;
    if (model.follow || !view.snapshotsShown) drawSnapshots(view, model);
    view.shrink?.update();
    view.ensemble?.update();
  }
  if (view.sweep) view.sweep.set(sweepPoints(model));
  view.table.update();
  view.diagnosis.update();
  drawConnection(view, model);
}

/**
 * Hands `chart` the epochs of the model it has not taken yet and, with replicates, each variant's
 * mean and band points as far as all its replicates have come.
 */
function feed(chart, model, view) {
  for (const run of model.runs) {
    const from = chart.fed.get(run.id) || 0;
    const n = run.epochs.length;
    if (from === n) continue;
    chart.fed.set(run.id, n);
    for (const m of chart.spec.metrics) {
      const x = [];
      const y = [];
      for (let i = from; i < n; i++) {
        const row = run.epochs[i];
        const v = valueOf(chart, m, row);
        if (v !== null) x.push(row.epoch), y.push(v);
      }
      chart.append(`${run.id}:${m.key}`, x, y);
    }
  }
  if (!view.banded) return;
  for (const v of model.variants) {
    for (const m of chart.spec.metrics) {
      const id = `${v.name}:${m.key}`;
      const stats = variantStats(v, (row) => valueOf(chart, m, row), view.meansThrough.get(`${chart.spec.key}:${id}`) || 0);
      view.meansThrough.set(`${chart.spec.key}:${id}`, stats.through);
      chart.append(`mean:${id}`, stats.x, stats.mean);
      if (m.band) chart.appendBand(`band:${id}`, stats.x, stats.lo, stats.hi);
    }
  }
}

/** Each variant's gradient bars: its replicates' mean. */
function drawVariantBars(view, model) {
  for (const v of model.variants) {
    if (!view.gradsChanged.has(v.name)) continue;
    const latest = v.runs.map((r) => view.grads.get(r.id)).filter(Boolean);
    view.bars.set(v.name, latest[0].map((_, i) => latest.reduce((sum, g) => sum + (g[i] ?? 0), 0) / latest.length));
  }
  view.gradsChanged.clear();
}

/** Shows every run's snapshot at the slider's epoch (the latest one while following). */
function drawSnapshots(view, model) {
  const epochs = model.snapshotEpochs;
  if (!epochs.length) return;
  if (model.follow) model.sliderEpoch = epochs.at(-1);
  const i = Math.max(0, epochs.indexOf(model.sliderEpoch));
  view.snapshotsShown = true;
  view.slider.max = String(epochs.length - 1);
  view.slider.value = String(i);
  view.sliderLabel.textContent = `${epochs[i]}`;
  for (const run of view.pictured) {
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
  view.cancelAll.hidden = done || model.replaying;
  if (view.replayButton && !model.replaying) view.replayButton.disabled = !done;
  if (done && !view.refetched && model.connection === "live") {
    view.refetched = true;
    view.refetch().catch(() => (view.refetched = false));
  }
  if (done && !view.fitted && model.runs.some((r) => r.epochs.length < r.total)) {
    view.fitted = true;
    for (const c of view.lineCharts) c.fitX();
  }
  const state = done && model.connection === "live" ? "finished" : model.connection;
  if (view.conn.dataset.conn !== state) {
    view.conn.dataset.conn = state;
    view.conn.textContent = CONNECTION_TEXT[state] ? t(CONNECTION_TEXT[state]) : state;
  }
}
