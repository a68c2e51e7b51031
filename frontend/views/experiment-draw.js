// The live view's per-frame drawing: brings the parts layout() built up to the model, once per
// frame, and only what changed since the last frame.

import { schedule } from "../charts.js";
import { msg, t } from "../i18n.js";
import { allFinal, markersOf, snapshotAt, sweepPoints } from "./experiment-model.js";
import { updatePanels } from "./experiment-panels.js";

export const CONNECTION_TEXT = { connecting: msg("conn.connecting"), live: msg("conn.live"), reconnecting: msg("conn.reconnecting"), closed: msg("conn.closed"), missing: msg("conn.missing"), finished: msg("conn.finished"), replay: msg("conn.replay") };

/**
 * Brings the page up to the model, once per frame (a scheduler hook): tells the line charts there
 * is more to take (each takes it as it draws: `feed`), moves gradient bars, markers and
 * snapshots, and updates the table and the connection badge.
 */
export function draw(view, model) {
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
    updatePanels(view.panels);
  }
  if (view.sweep) view.sweep.set(sweepPoints(model));
  view.table.update();
  view.diagnosis.update();
  drawConnection(view, model);
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
export function drawSnapshots(view, model) {
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
