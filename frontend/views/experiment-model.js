// The live view's model and how each websocket message changes it: plain data, no DOM, no drawing.

import { diff } from "./schema.js";

const FINAL = new Set(["completed", "stopped_early", "diverged", "cancelled", "failed", "interrupted"]);
export const isFinal = (status) => FINAL.has(status);

/** "l2 = 0.01, dropout = 0.5": what a run changes from the comparison's base setup. */
export function changesOf(spec, base) {
  if (!base) return "";
  const flat = (o, pre = "") => Object.entries(o).flatMap(([k, v]) =>
    v && typeof v === "object" && !Array.isArray(v) ? flat(v, `${pre}${k}.`) : [[`${pre}${k}`, v]]);
  return flat(diff(spec, base)).map(([path, v]) => `${path.split(".").pop()} = ${Array.isArray(v) ? v.join("×") : v}`).join(", ");
}

/**
 * The experiment as the page keeps it (it survives a view rebuild, e.g. large type, without a
 * refetch). `colorOf(i)` gives the i-th variant's colour: every replicate of a variant shares it.
 */
export function modelFrom(meta, colorOf) {
  const variants = [];
  const variantOf = new Map();
  const runs = meta.runs.map((r, index) => {
    const name = r.variant ?? r.name;
    if (!variantOf.has(name)) {
      const variant = { name, index: variants.length, color: colorOf(variants.length), runs: [], changes: changesOf(r.spec, meta.spec?.base) };
      variantOf.set(name, variant);
      variants.push(variant);
    }
    const variant = variantOf.get(name);
    const run = {
      id: r.id,
      name: r.name,
      index,
      variant: name,
      replicate: r.replicate ?? 0,
      color: variant.color,
      total: r.spec.train.epochs,
      status: r.status,
      message: r.message,
      epochs: [],
      best: null,
      stoppedAt: null,
      summary: r.summary || null,
      snapshots: { histogram: new Map(), boundary: new Map(), curve: new Map() },
      points: null,
      changes: variant.changes,
    };
    variant.runs.push(run);
    return run;
  });
  return {
    id: String(meta.id),
    meta,
    runs,
    variants,
    byId: new Map(runs.map((r) => [r.id, r])),
    kind: meta.runs[0].spec.data.kind,
    cursor: 0,
    connection: "connecting",
    duplicates: 0,
    snapshotEpochs: [],
    follow: true,
    sliderEpoch: null,
    logY: false,
    markersVersion: 0, // bumped whenever a best-epoch or early-stop marker moves
  };
}

/**
 * Applies one websocket message to the model. Returns what changed — `{ run, type }` with
 * `type` one of "epoch", "duplicate", "snapshot", "status", "summary" — or null for a message
 * about no run of this experiment. Never draws.
 */
export function applyEvent(model, msg) {
  const run = model.byId.get(msg.run_id);
  if (!run) return null;
  if (msg.type === "epoch") return applyEpoch(model, run, msg);
  if (msg.type === "snapshot") {
    if (!run.snapshots[msg.kind]) run.snapshots[msg.kind] = new Map();
    run.snapshots[msg.kind].set(msg.epoch, msg.data);
    // Data points come once per run, with its first boundary or curve snapshot.
    if (msg.data.train) run.points = { train: msg.data.train, val: msg.data.val };
    if (!model.snapshotEpochs.includes(msg.epoch)) {
      model.snapshotEpochs.push(msg.epoch);
      model.snapshotEpochs.sort((a, b) => a - b);
    }
    return { run, type: "snapshot" };
  }
  if (msg.type === "status") {
    run.status = msg.status;
    run.message = msg.message || null;
    if (msg.status === "stopped_early") {
      run.stoppedAt = msg.epoch ?? run.epochs.at(-1)?.epoch ?? null;
      model.markersVersion += 1;
    }
    return { run, type: "status" };
  }
  if (msg.type === "summary") {
    run.summary = msg;
    run.status = msg.status || run.status;
    if (run.status === "stopped_early" && !run.stoppedAt) run.stoppedAt = msg.epochs_run;
    model.markersVersion += 1;
    return { run, type: "summary" };
  }
  return { run, type: msg.type };
}

function applyEpoch(model, run, msg) {
  const last = run.epochs.at(-1);
  if (last && msg.epoch <= last.epoch) {
    model.duplicates += 1; // a replay overlapping what we hold: counted, never drawn twice
    return { run, type: "duplicate" };
  }
  run.epochs.push(msg);
  if (run.status === "queued") run.status = "running";
  if (Number.isFinite(msg.val_loss) && (!run.best || msg.val_loss < run.best.val)) {
    run.best = { epoch: msg.epoch, val: msg.val_loss };
    model.markersVersion += 1;
  }
  return { run, type: "epoch" };
}

/** The loss chart's markers: each run's best validation epoch (★) and where early stopping stopped it (✕). */
export function markersOf(model) {
  const best = model.runs.filter((r) => r.best).map((r) => ({
    x: r.summary?.best_epoch ?? r.best.epoch, y: r.summary?.best_val_loss ?? r.best.val, color: r.color, name: r.name,
  }));
  const stopped = model.runs.filter((r) => r.stoppedAt).map((r) => {
    const row = r.epochs.find((e) => e.epoch === r.stoppedAt) || r.epochs.at(-1);
    return { x: r.stoppedAt, y: row ? row.val_loss : null, color: r.color, name: r.name };
  });
  return { best, stopped };
}

/** The run's latest snapshot of `kind` at or before `epoch`, as {epoch, data}, or null. */
export function snapshotAt(run, kind, epoch) {
  let best = null;
  for (const [e, data] of run.snapshots[kind] || []) if (e <= epoch && (!best || e > best.epoch)) best = { epoch: e, data };
  return best;
}

export const allFinal = (model) => model.runs.every((r) => isFinal(r.status));
