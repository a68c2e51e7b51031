// The live view's model and how each websocket message changes it: plain data, no DOM, no drawing.

import { isFinal, STATUS } from "../statuses.js";
import { diff } from "./schema.js";

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
      spec: r.spec,
      total: r.spec.train.epochs,
      status: r.status,
      message: r.message,
      epochs: [],
      best: null,
      // A run that stopped early before the page opened: its summary says where (its ✕ marker).
      stoppedAt: r.status === STATUS.stopped_early ? (r.summary?.epochs_run ?? null) : null,
      summary: r.summary || null,
      // Where the lecture's recipe puts the finished run (the API's, worked out from its numbers).
      diagnosis: r.diagnosis || null,
      // The earlier run whose computation gave this run's numbers (identical setups are computed once).
      sharedFrom: r.shared_from ?? r.summary?.extra?.shared_from ?? null,
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
    snapshotsVersion: 0, // bumped with every snapshot
    repeats: Math.max(1, ...variants.map((v) => v.runs.length)),
    showReplicates: false,
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
    if (run.snapshots[msg.kind].has(msg.epoch)) return { run, type: "known" }; // fetched before the replay brought it
    run.snapshots[msg.kind].set(msg.epoch, msg.data);
    // Data points come once per run, with its first boundary or curve snapshot.
    if (msg.data.train) run.points = { train: msg.data.train, val: msg.data.val };
    if (!model.snapshotEpochs.includes(msg.epoch)) {
      model.snapshotEpochs.push(msg.epoch);
      model.snapshotEpochs.sort((a, b) => a - b);
    }
    model.snapshotsVersion += 1;
    return { run, type: "snapshot" };
  }
  if (msg.type === "status") {
    run.status = msg.status;
    run.message = msg.message || null;
    if (msg.status === STATUS.stopped_early) {
      run.stoppedAt = msg.epoch ?? run.epochs.at(-1)?.epoch ?? null;
      model.markersVersion += 1;
    }
    return { run, type: "status" };
  }
  if (msg.type === "summary") {
    run.summary = msg;
    run.sharedFrom = run.sharedFrom ?? msg.extra?.shared_from ?? null;
    run.status = msg.status || run.status;
    if (run.status === STATUS.stopped_early && !run.stoppedAt) run.stoppedAt = msg.epochs_run;
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
  if (run.status === STATUS.queued) run.status = STATUS.running;
  if (Number.isFinite(msg.val_loss) && (!run.best || msg.val_loss < run.best.val)) {
    run.best = { epoch: msg.epoch, val: msg.val_loss };
    model.markersVersion += 1;
  }
  return { run, type: "epoch" };
}

/** A number the server sent as JSON: non-finite values come as "NaN", "Infinity", "-Infinity". */
const numberOf = (v) => (typeof v === "string" ? Number(v) : v);

/**
 * Every run's stored epochs from one `GET /api/experiments/{id}/metrics` answer (columns per run:
 * `{cursor, runs: {"<run_id>": {epoch: [...], train_loss: [...], ...}}}`), and the cursor they
 * are complete through: the stream then starts after it, so nothing it sends is already held
 * (an epoch it repeats would count as a duplicate). Returns the number of epochs loaded.
 *
 * The compact answer (`?compact=true`) writes the columns named in `float32` at their shortest
 * digits: rounding them to float32 gives back the stored numbers exactly, the same the stream
 * sends. Its gradient norms are those of the epochs in `grad_epoch` only; other rows get null.
 */
export function preloadColumns(model, history) {
  let loaded = 0;
  const single = new Set(history.float32 || []);
  for (const run of model.runs) {
    const cols = history.runs?.[String(run.id)];
    if (!cols) continue;
    // Column by column first (a tight loop per metric), then one row per epoch: 60,000 rows of a
    // 30 × 2,000 experiment took 100-160 ms made value by value through a converter per cell.
    const names = Object.keys(cols).filter((k) => k !== "epoch" && k !== "grad_norms" && k !== "grad_epoch");
    const values = names.map((k) => decoded(cols[k], single.has(k)));
    const grads = gradsByEpoch(cols, single.has("grad_norms"));
    const epochs = cols.epoch;
    for (let i = 0; i < epochs.length; i++) {
      const row = { type: "epoch", run_id: run.id, epoch: epochs[i], grad_norms: grads(epochs[i], i) };
      for (let j = 0; j < names.length; j++) row[names[j]] = values[j][i];
      if (applyEpoch(model, run, row).type === "epoch") loaded += 1;
    }
  }
  model.cursor = Math.max(model.cursor, history.cursor ?? 0);
  return loaded;
}

/**
 * A column as sent: in binary (base64 of little-endian float32 bytes, float64 when not `single`,
 * NaN and ±Inf among them), or as a JSON list with non-finite values by name, float32 ones back to
 * the stored float32 and null where an epoch has no value.
 */
function decoded(column, single) {
  if (typeof column === "string") return binary(column, single);
  const out = new Array(column.length);
  for (let i = 0; i < column.length; i++) {
    const v = column[i];
    out[i] = v === null ? null : single ? Math.fround(numberOf(v)) : numberOf(v);
  }
  return out;
}

/**
 * Base64 text of little-endian float32 (or float64) numbers, as a typed array of them. Typed
 * arrays read in the machine's byte order, little-endian on every machine a browser runs on.
 */
export function binary(text, single) {
  let bytes;
  if (Uint8Array.fromBase64) bytes = Uint8Array.fromBase64(text);
  else {
    const chars = atob(text);
    bytes = new Uint8Array(chars.length);
    for (let i = 0; i < chars.length; i++) bytes[i] = chars.charCodeAt(i);
  }
  return single ? new Float32Array(bytes.buffer, 0, bytes.length / 4) : new Float64Array(bytes.buffer, 0, bytes.length / 8);
}

/** (epoch, row index) → that row's gradient norms: every row's, or only those of `grad_epoch`. */
function gradsByEpoch(cols, single) {
  const norms = (g) => (g ? (single ? g.map((v) => Math.fround(numberOf(v))) : g) : null);
  if (!cols.grad_epoch) return (e, i) => norms(cols.grad_norms?.[i]);
  const at = new Map(cols.grad_epoch.map((e, j) => [e, j]));
  return (e) => (at.has(e) ? norms(cols.grad_norms[at.get(e)]) : null);
}

/** The loss chart's markers: each run's best validation epoch (★) and where early stopping stopped it (✕). */
export function markersOf(model) {
  const best = model.runs.filter((r) => r.best).map((r) => ({
    x: r.summary?.best_epoch ?? r.best.epoch, y: r.summary?.best_val_loss ?? r.best.val, color: r.color, name: r.name,
  }));
  const stopped = model.runs.filter((r) => r.stoppedAt).map((r) => {
    const row = r.epochs[r.stoppedAt - (r.epochs[0]?.epoch ?? 0)] || r.epochs.at(-1);
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

/** The runs whose networks the page pictures: all of them, or with seeds each variant's first. */
export const picturedRuns = (model) => (model.repeats > 1 ? model.variants.map((v) => v.runs[0]) : model.runs);

/**
 * A variant's curve over its replicates: for each epoch after `after`, the mean, lowest and
 * highest of `value(row)` over the replicates that reached it. An epoch is given only once every
 * replicate still training has reached it (a replicate that ended early no longer holds the curve
 * back), so a point once drawn never changes. Non-finite values (a diverged replicate) are left out.
 */
export function variantStats(variant, value, after = 0) {
  const out = { x: [], mean: [], lo: [], hi: [], n: [] };
  let frontier = Infinity;
  let last = 0;
  for (const run of variant.runs) {
    const end = run.epochs.at(-1)?.epoch ?? 0;
    last = Math.max(last, end);
    if (!isFinal(run.status)) frontier = Math.min(frontier, end);
  }
  frontier = Math.min(frontier, last);
  for (let e = after + 1; e <= frontier; e++) {
    let sum = 0, n = 0, lo = Infinity, hi = -Infinity;
    for (const run of variant.runs) {
      const first = run.epochs[0]?.epoch;
      const row = first === undefined ? undefined : run.epochs[e - first];
      if (!row || row.epoch !== e) continue;
      const v = value(row);
      if (typeof v !== "number" || !Number.isFinite(v)) continue;
      sum += v;
      n += 1;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!n) continue;
    out.x.push(e);
    out.mean.push(sum / n);
    out.lo.push(lo);
    out.hi.push(hi);
    out.n.push(n);
  }
  out.through = Math.max(after, frontier === Infinity ? after : frontier);
  return out;
}

/**
 * Mean, sample standard deviation (n − 1; 0 for one), min and max of `value(run)` over a
 * variant's finished replicates, or null while none has it: the API's aggregates, kept live.
 */
export function spread(variant, value) {
  const xs = variant.runs.filter((r) => r.summary).map(value).filter((v) => typeof v === "number" && Number.isFinite(v));
  if (!xs.length) return null;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd, n: xs.length, min: Math.min(...xs), max: Math.max(...xs) };
}

/** The API's verdict on a variant (final validation loss against the reference), or null. */
export function verdictOf(model, variantName, metric = "final_val_loss") {
  return (model.meta.comparisons || []).find((c) => c.variant === variantName && c.metric === metric) || null;
}

/** The value at a dotted path ("regularization.dropout") of a nested object. */
const at = (obj, path) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);

function band(values) {
  const xs = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  if (!xs.length) return null;
  return { mean: xs.reduce((a, b) => a + b, 0) / xs.length, lo: Math.min(...xs), hi: Math.max(...xs), n: xs.length };
}

/**
 * The response curve of a sweep, live: for each variant (sorted by its swept value), the mean,
 * lowest and highest over its replicates of the best validation loss so far, the latest (at the
 * end: final) validation loss and the latest training loss. Null when the experiment is no sweep.
 */
export function sweepPoints(model) {
  const sweep = model.meta.sweep;
  if (!sweep) return null;
  const valueOf = new Map((model.meta.aggregates || []).map((a) => [a.variant, a.value]));
  const points = model.variants.map((v) => {
    const last = (r) => r.epochs.at(-1);
    return {
      variant: v.name,
      color: v.color,
      value: valueOf.get(v.name) ?? at(v.runs[0].spec ?? {}, sweep.field),
      best: band(v.runs.map((r) => r.summary?.best_val_loss ?? r.best?.val)),
      finalVal: band(v.runs.map((r) => r.summary?.final_val_loss ?? last(r)?.val_loss)),
      finalTrain: band(v.runs.map((r) => r.summary?.final_train_loss ?? last(r)?.train_loss)),
    };
  });
  return points.filter((p) => typeof p.value === "number").sort((a, b) => a.value - b.value);
}

/**
 * A copy of a finished experiment's model to replay its curves from nothing: the same runs, each
 * with no epoch and no snapshot shown yet, "running", no summary. `replayTo` then grows it.
 */
export function replayModel(model) {
  const runs = model.runs.map((r) => ({ ...r, epochs: [], best: null, stoppedAt: null, summary: null, status: STATUS.running, message: null, replayed: false }));
  const byId = new Map(runs.map((r) => [r.id, r]));
  const variants = model.variants.map((v) => ({ ...v, runs: v.runs.map((r) => byId.get(r.id)) }));
  return { ...model, runs, variants, byId, source: model, duplicates: 0, markersVersion: 0, snapshotEpochs: [], snapshotsVersion: 0,
    sliderEpoch: null, follow: true, connection: "replay", replaying: true };
}

/**
 * Grows a replay up to `epoch`: each run gets its source's epochs through it, and a run whose
 * epochs have all been shown gets its source's status and summary (its early-stop mark appears
 * then). Returns true once every run is whole again.
 */
export function replayTo(replay, epoch) {
  let whole = true;
  // The pictures of the networks follow the curves: a snapshot shows once its epoch is replayed.
  const snaps = replay.source.snapshotEpochs.filter((e) => e <= epoch);
  if (snaps.length !== replay.snapshotEpochs.length) {
    replay.snapshotEpochs = snaps;
    replay.snapshotsVersion += 1;
  }
  for (const run of replay.runs) {
    const source = replay.source.byId.get(run.id);
    for (let i = run.epochs.length; i < source.epochs.length && source.epochs[i].epoch <= epoch; i++) applyEpoch(replay, run, source.epochs[i]);
    if (run.epochs.length < source.epochs.length) {
      whole = false;
    } else if (!run.replayed) {
      Object.assign(run, { replayed: true, status: source.status, message: source.message, summary: source.summary, stoppedAt: source.stoppedAt });
      replay.markersVersion += 1;
    }
  }
  return whole;
}
