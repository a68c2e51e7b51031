// The live view of one comparison, its lifecycle: loads the model, opens the stream, rebuilds the
// page (experiment-layout.js) for the model or a replay of it, and lets experiment-draw.js bring it
// up to the model once per frame. Only applyEvent() (experiment-model.js) changes the model.

import { api } from "../api.js";
import { runColor, scheduler } from "../charts.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";
import { LiveStream } from "../live.js";
import { report } from "../probe.js";
import { checkChartRows } from "./experiment-charts.js";
import { draw } from "./experiment-draw.js";
import { layout } from "./experiment-layout.js";
import { applyEvent, modelFrom, picturedRuns, preloadColumns, replayModel, replayTo } from "./experiment-model.js";

export async function render(root, ctx) {
  const id = ctx.route.id;
  let model = ctx.state.experiment;
  if (!model || model.id !== String(id)) {
    // Every run's stored epochs in one request, with the cursor they are complete through; the
    // stream then starts after that cursor instead of replaying every epoch one message each.
    // The experiment is read after the history: a status or summary logged before the cursor is
    // in it, one logged after comes again by the stream (the last one wins either way).
    const [history, metrics] = await Promise.all([api.history(id), ctx.loadMetrics(), ctx.loadStatuses()]);
    if (ctx.signal.aborted) return null;
    checkChartRows(metrics.metrics);
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
    view = layout(root, m, ctx, { sharedNote: (sourceId) => sharedNote(model, sourceId), replay: () => (stopReplay ? stopReplay() : startReplay()), replayPerS: REPLAY_EPOCHS_PER_S });
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
  report("stream", stream); // a test drops it as a flaky network would
  // The browser bench's "first full draw": every run over, every epoch in the model and on the loss chart.
  report("shown", () => model.runs.every((r) => r.summary && r.epochs.length >= (r.summary.epochs_run ?? 0)
    && view.charts.loss.fed.get(r.id) === r.epochs.length) && view.charts.loss.idle());

  return () => {
    stopReplay?.();
    stopDrawing();
    stream.stop();
    report("stream", null);
    report("shown", null);
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
