// The live view's model: what each websocket message changes, with no browser and no drawing.

import assert from "node:assert/strict";
import { test } from "node:test";

import { setStatuses } from "../../frontend/statuses.js";
import { allFinal, applyEvent, markersOf, modelFrom, snapshotAt } from "../../frontend/views/experiment-model.js";

// What GET /api/statuses answers (the page's one copy comes from there).
setStatuses({
  statuses: ["queued", "running", "completed", "stopped_early", "diverged", "cancelled", "failed", "interrupted"],
  final: ["completed", "stopped_early", "diverged", "cancelled", "failed", "interrupted"],
});

const COLORS = ["blue", "orange", "green"];

function meta({ repeats = 1, variants = ["none", "l2"] } = {}) {
  const spec = (l2) => ({ data: { kind: "moons" }, train: { epochs: 10 }, regularization: { l2 } });
  const runs = [];
  for (const [v, name] of variants.entries()) {
    for (let r = 0; r < repeats; r++) {
      runs.push({ id: 100 + runs.length, name: repeats > 1 ? `${name} #${r + 1}` : name, variant: repeats > 1 ? name : undefined,
        replicate: repeats > 1 ? r : undefined, status: "queued", message: null, summary: null, spec: spec(v * 0.01) });
    }
  }
  return { id: 7, name: "demo", runs, spec: { base: spec(0) } };
}

const epoch = (runId, e, val, extra = {}) => ({ type: "epoch", run_id: runId, epoch: e, train_loss: 1 / e, val_loss: val, ...extra });

test("each run starts empty, queued, with what it changes from the base", () => {
  const model = modelFrom(meta(), (i) => COLORS[i]);
  assert.deepEqual(model.runs.map((r) => [r.name, r.status, r.epochs.length, r.color]), [["none", "queued", 0, "blue"], ["l2", "queued", 0, "orange"]]);
  assert.equal(model.runs[0].changes, "");
  assert.equal(model.runs[1].changes, "l2 = 0.01");
  assert.equal(model.kind, "moons");
});

test("a run that stopped early before the page opened has its stop marker from its summary", () => {
  const m = meta();
  Object.assign(m.runs[1], { status: "stopped_early", summary: { status: "stopped_early", epochs_run: 2, best_epoch: 1, best_val_loss: 0.5 } });
  const model = modelFrom(m, (i) => COLORS[i]);
  for (const e of [1, 2]) applyEvent(model, epoch(model.runs[1].id, e, e === 1 ? 0.5 : 0.7));
  const { stopped } = markersOf(model);
  assert.deepEqual(stopped.map((s) => [s.name, s.x, s.y]), [["l2", 2, 0.7]]);
  assert.equal(model.runs[0].stoppedAt, null);
});

test("replicates of a variant share its colour and are grouped under it", () => {
  const model = modelFrom(meta({ repeats: 3 }), (i) => COLORS[i]);
  assert.deepEqual(model.variants.map((v) => [v.name, v.runs.map((r) => r.replicate), v.color]),
    [["none", [0, 1, 2], "blue"], ["l2", [0, 1, 2], "orange"]]);
  assert.deepEqual(new Set(model.variants[1].runs.map((r) => r.color)), new Set(["orange"]));
});

test("an epoch appends to its run, starts it running and moves its best marker", () => {
  const model = modelFrom(meta(), (i) => COLORS[i]);
  const before = model.markersVersion;
  const change = applyEvent(model, epoch(101, 1, 0.9));
  assert.equal(change.type, "epoch");
  assert.equal(change.run, model.runs[1]);
  assert.equal(model.runs[1].status, "running");
  assert.deepEqual(model.runs[1].best, { epoch: 1, val: 0.9 });
  assert.ok(model.markersVersion > before);
  const v = model.markersVersion;
  applyEvent(model, epoch(101, 2, 0.95)); // worse: the best stays
  assert.equal(model.markersVersion, v);
  assert.deepEqual(model.runs[1].best, { epoch: 1, val: 0.9 });
  applyEvent(model, epoch(101, 3, 0.5));
  assert.deepEqual(model.runs[1].best, { epoch: 3, val: 0.5 });
  assert.deepEqual(model.runs[1].epochs.map((r) => r.epoch), [1, 2, 3]);
  assert.equal(model.runs[0].epochs.length, 0);
});

test("a replayed epoch is counted as a duplicate and never appended twice", () => {
  const model = modelFrom(meta(), (i) => COLORS[i]);
  applyEvent(model, epoch(100, 1, 0.9));
  applyEvent(model, epoch(100, 2, 0.8));
  assert.equal(applyEvent(model, epoch(100, 2, 0.8)).type, "duplicate");
  assert.equal(applyEvent(model, epoch(100, 1, 0.9)).type, "duplicate");
  assert.equal(model.duplicates, 2);
  assert.deepEqual(model.runs[0].epochs.map((r) => r.epoch), [1, 2]);
});

test("a NaN validation loss never becomes the best", () => {
  const model = modelFrom(meta(), (i) => COLORS[i]);
  applyEvent(model, epoch(100, 1, Number.NaN));
  assert.equal(model.runs[0].best, null);
});

test("early stopping and summaries set status, stop epoch and markers", () => {
  const model = modelFrom(meta(), (i) => COLORS[i]);
  for (let e = 1; e <= 4; e++) applyEvent(model, epoch(100, e, [0.9, 0.5, 0.6, 0.7][e - 1]));
  applyEvent(model, { type: "status", run_id: 100, status: "stopped_early", epoch: 4, message: "no better for 2 epochs" });
  assert.equal(model.runs[0].status, "stopped_early");
  assert.equal(model.runs[0].message, "no better for 2 epochs");
  assert.equal(model.runs[0].stoppedAt, 4);
  applyEvent(model, { type: "summary", run_id: 100, status: "stopped_early", best_epoch: 2, best_val_loss: 0.5, epochs_run: 4 });
  const { best, stopped } = markersOf(model);
  assert.deepEqual(best, [{ x: 2, y: 0.5, color: "blue", name: "none" }]);
  assert.deepEqual(stopped, [{ x: 4, y: 0.7, color: "blue", name: "none" }]);
  assert.equal(allFinal(model), false);
  applyEvent(model, { type: "summary", run_id: 101, status: "completed", epochs_run: 10 });
  assert.equal(allFinal(model), true);
});

test("snapshots are kept per kind and epoch; the slider finds the latest at or before an epoch", () => {
  const model = modelFrom(meta(), (i) => COLORS[i]);
  const train = { x1: [0], x2: [1], y: [0] };
  applyEvent(model, { type: "snapshot", run_id: 100, kind: "boundary", epoch: 10, data: { p: [[0.5]], train, val: null } });
  applyEvent(model, { type: "snapshot", run_id: 100, kind: "histogram", epoch: 5, data: { layers: [] } });
  applyEvent(model, { type: "snapshot", run_id: 101, kind: "histogram", epoch: 5, data: { layers: [] } });
  assert.deepEqual(model.snapshotEpochs, [5, 10]);
  assert.deepEqual(model.runs[0].points.train, train);
  assert.equal(snapshotAt(model.runs[0], "histogram", 9).epoch, 5);
  assert.equal(snapshotAt(model.runs[0], "boundary", 9), null);
  assert.equal(snapshotAt(model.runs[0], "boundary", 12).epoch, 10);
  // The same snapshot again (fetched by REST, then replayed by the stream) changes nothing.
  const version = model.snapshotsVersion;
  const again = applyEvent(model, { type: "snapshot", run_id: 100, kind: "histogram", epoch: 5, data: { layers: [1] } });
  assert.equal(again.type, "known");
  assert.equal(model.snapshotsVersion, version);
  assert.deepEqual(model.runs[0].snapshots.histogram.get(5), { layers: [] });
});

test("a message about a run of another experiment changes nothing", () => {
  const model = modelFrom(meta(), (i) => COLORS[i]);
  assert.equal(applyEvent(model, epoch(999, 1, 0.5)), null);
  assert.ok(model.runs.every((r) => r.epochs.length === 0));
});

test("a variant's curve is the mean, min and max over replicates, given only where all have reached", async () => {
  const { variantStats } = await import("../../frontend/views/experiment-model.js");
  const model = modelFrom(meta({ repeats: 3, variants: ["none"] }), (i) => COLORS[i]);
  const [a, b, c] = model.variants[0].runs;
  const val = (row) => row.val_loss;
  for (const [run, vals] of [[a, [0.9, 0.6, 0.5]], [b, [0.7, 0.4]], [c, [0.8, 0.5, 0.3]]]) {
    vals.forEach((v, i) => applyEvent(model, epoch(run.id, i + 1, v)));
  }
  let s = variantStats(model.variants[0], val);
  assert.deepEqual(s.x, [1, 2], "epoch 3 waits for the replicate still at epoch 2");
  assert.ok(Math.abs(s.mean[0] - 0.8) < 1e-12 && Math.abs(s.mean[1] - 0.5) < 1e-12);
  assert.deepEqual([s.lo, s.hi], [[0.7, 0.4], [0.9, 0.6]]);
  assert.equal(s.through, 2);
  // The slow replicate stops early: the others' epoch 3 is no longer held back.
  applyEvent(model, { type: "status", run_id: b.id, status: "stopped_early", epoch: 2 });
  s = variantStats(model.variants[0], val, 2);
  assert.deepEqual([s.x, s.n, s.lo, s.hi], [[3], [2], [0.3], [0.5]]);
  assert.ok(Math.abs(s.mean[0] - 0.4) < 1e-12);
  // A diverged value ("NaN" on the wire) is left out of the mean, not propagated.
  applyEvent(model, epoch(a.id, 4, "NaN"));
  applyEvent(model, epoch(c.id, 4, 0.2));
  s = variantStats(model.variants[0], val, 3);
  assert.deepEqual([s.x, s.mean, s.n], [[4], [0.2], [1]]);
});

test("a variant's spread over finished replicates: mean, sample sd, min, max", async () => {
  const { spread } = await import("../../frontend/views/experiment-model.js");
  const model = modelFrom(meta({ repeats: 3, variants: ["none"] }), (i) => COLORS[i]);
  const [a, b, c] = model.variants[0].runs;
  const final = (r) => r.summary.final_val_loss;
  assert.equal(spread(model.variants[0], final), null, "nothing finished yet");
  applyEvent(model, { type: "summary", run_id: a.id, status: "completed", final_val_loss: 0.5 });
  assert.deepEqual(spread(model.variants[0], final), { mean: 0.5, sd: 0, n: 1, min: 0.5, max: 0.5 });
  applyEvent(model, { type: "summary", run_id: b.id, status: "completed", final_val_loss: 0.7 });
  applyEvent(model, { type: "summary", run_id: c.id, status: "diverged", final_val_loss: "NaN" });
  const s = spread(model.variants[0], final);
  assert.equal(s.n, 2, "a diverged replicate's NaN is not averaged in");
  assert.ok(Math.abs(s.mean - 0.6) < 1e-12);
  assert.ok(Math.abs(s.sd - Math.sqrt(0.02)) < 1e-12, "sample sd: (0.1² + 0.1²) / (2 − 1)");
});

test("a sweep's response curve: per swept value, mean and range over seeds, live then final", async () => {
  const { sweepPoints } = await import("../../frontend/views/experiment-model.js");
  const m = meta({ repeats: 2, variants: ["l2=0.01", "l2=0", "l2=0.02"] });
  assert.equal(sweepPoints(modelFrom(m, (i) => COLORS[i])), null, "no sweep, no curve");
  m.sweep = { field: "regularization.l2", values: [0, 0.01, 0.02], log: false };
  const model = modelFrom(m, (i) => COLORS[i]);
  // Variant v's spec has l2 = v × 0.01 (see meta()): "l2=0.01" → 0, "l2=0" → 0.01, "l2=0.02" → 0.02.
  const runs = model.variants.map((v) => v.runs);
  applyEvent(model, epoch(runs[1][0].id, 1, 0.8));
  applyEvent(model, epoch(runs[1][1].id, 1, 0.6));
  applyEvent(model, epoch(runs[1][0].id, 2, 0.9));
  let points = sweepPoints(model);
  assert.deepEqual(points.map((p) => p.value), [0, 0.01, 0.02], "sorted by the swept value");
  assert.deepEqual(points.map((p) => p.variant), ["l2=0.01", "l2=0", "l2=0.02"]);
  const mid = points[1];
  assert.deepEqual([mid.best.lo, mid.best.hi, mid.best.n], [0.6, 0.8, 2], "best so far: 0.8 and 0.6");
  assert.deepEqual([mid.finalVal.lo, mid.finalVal.hi], [0.6, 0.9], "latest: 0.9 (epoch 2) and 0.6");
  assert.equal(points[0].best, null, "a variant with no epoch yet has no point");
  applyEvent(model, { type: "summary", run_id: runs[1][0].id, status: "completed", best_val_loss: 0.75, final_val_loss: 0.85, final_train_loss: 0.1 });
  points = sweepPoints(model);
  assert.equal(points[1].best.lo, 0.6);
  assert.equal(points[1].best.hi, 0.75, "the summary's numbers replace the live ones");
  // The API's own swept value wins over the spec lookup.
  model.meta.aggregates = [{ variant: "l2=0.02", value: 5 }];
  assert.equal(sweepPoints(model).at(-1).value, 5);
});

test("the experiment's history in columns preloads every run, decodes non-finite values and sets the cursor", async () => {
  const { preloadColumns } = await import("../../frontend/views/experiment-model.js");
  const model = modelFrom(meta(), (i) => COLORS[i]);
  const [a, b] = model.runs;
  const history = {
    experiment_id: 7,
    cursor: 42,
    runs: {
      [a.id]: { epoch: [1, 2, 3], train_loss: [1, 0.5, 0.25], val_loss: [0.9, 0.4, 0.6], step_size: [0.01, 0.005, 0.004], grad_norms: [[1, 2], [3, 4], [5, 6]] },
      [b.id]: { epoch: [1, 2], train_loss: [1, "Infinity"], val_loss: [0.8, "NaN"], step_size: [0.02, "-Infinity"], grad_norms: [[1], [2]] },
    },
  };
  assert.equal(preloadColumns(model, history), 5);
  assert.equal(model.cursor, 42);
  assert.deepEqual(a.epochs.map((r) => [r.epoch, r.train_loss, r.val_loss, r.step_size, r.grad_norms]),
    [[1, 1, 0.9, 0.01, [1, 2]], [2, 0.5, 0.4, 0.005, [3, 4]], [3, 0.25, 0.6, 0.004, [5, 6]]]);
  assert.deepEqual(a.best, { epoch: 2, val: 0.4 });
  assert.equal(b.epochs[1].train_loss, Infinity);
  assert.ok(Number.isNaN(b.epochs[1].val_loss));
  assert.equal(b.epochs[1].step_size, -Infinity);
  assert.deepEqual(b.best, { epoch: 1, val: 0.8 }, "a NaN validation loss is never the best");
  assert.equal(a.status, "running");
  // The stream starts after the cursor: its next epoch grows the run, and a repeat is a duplicate.
  assert.equal(applyEvent(model, epoch(a.id, 4, 0.3)).type, "epoch");
  assert.equal(applyEvent(model, epoch(a.id, 3, 0.6)).type, "duplicate");
  assert.equal(model.duplicates, 1);
});

test("the compact history gives back the stored float32 numbers and only the listed epochs' gradient norms", async () => {
  const { preloadColumns } = await import("../../frontend/views/experiment-model.js");
  const model = modelFrom(meta(), (i) => COLORS[i]);
  const [a] = model.runs;
  const history = {
    cursor: 9,
    float32: ["train_loss", "val_loss", "grad_norms"],
    grad_norms_every: 2,
    runs: {
      // 0.8435577 is float32 0.8435577154159546 at its shortest; seconds are not float32 numbers.
      [a.id]: { epoch: [1, 2, 3], train_loss: [0.8435577, 0.1, "NaN"], val_loss: [0.9, null, 0.5], seconds: [0.1, 0.2, 0.30000000000000004],
        grad_epoch: [2, 3], grad_norms: [[0.1, 2], [3, 0.7]] },
    },
  };
  assert.equal(preloadColumns(model, history), 3);
  assert.deepEqual(a.epochs.map((r) => r.train_loss).slice(0, 2), [0.8435577154159546, Math.fround(0.1)]);
  assert.ok(Number.isNaN(a.epochs[2].train_loss));
  assert.deepEqual(a.epochs.map((r) => r.val_loss), [Math.fround(0.9), null, 0.5]);
  assert.deepEqual(a.epochs.map((r) => r.seconds), [0.1, 0.2, 0.30000000000000004], "other columns as sent");
  assert.deepEqual(a.epochs.map((r) => r.grad_norms), [null, [Math.fround(0.1), 2], [3, Math.fround(0.7)]]);
  assert.equal(model.cursor, 9);
});

test("the compact history's binary columns give back the stored float32 and float64 numbers, NaN and ±Inf among them", async () => {
  const { preloadColumns, binary } = await import("../../frontend/views/experiment-model.js");
  const model = modelFrom(meta(), (i) => COLORS[i]);
  const [a] = model.runs;
  const base64 = (typed) => Buffer.from(typed.buffer).toString("base64"); // little-endian, as the server writes
  const loss = new Float32Array([0.8435577, NaN, Infinity, 0.25]);
  const history = {
    cursor: 5,
    float32: ["train_loss", "val_loss"],
    runs: {
      [a.id]: { epoch: [1, 2, 3, 4], train_loss: base64(loss), val_loss: [0.9, null, "NaN", 0.5],
        seconds: base64(new Float64Array([0.1, 0.2, 0.30000000000000004, -Infinity])), grad_epoch: [], grad_norms: [] },
    },
  };
  assert.equal(preloadColumns(model, history), 4);
  const column = (k) => a.epochs.map((r) => r[k]);
  assert.deepEqual(column("train_loss"), [Math.fround(0.8435577), NaN, Infinity, 0.25]);
  assert.deepEqual(column("val_loss"), [Math.fround(0.9), null, NaN, 0.5], "a column with holes comes as JSON");
  assert.deepEqual(column("seconds"), [0.1, 0.2, 0.30000000000000004, -Infinity]);
  assert.deepEqual(a.best, { epoch: 4, val: 0.5 });
  assert.deepEqual([...binary("", true)], [], "a run with no epochs");
});

test("a run the history has no column for (queued, nothing logged) stays empty", async () => {
  const { preloadColumns } = await import("../../frontend/views/experiment-model.js");
  const model = modelFrom(meta(), (i) => COLORS[i]);
  assert.equal(preloadColumns(model, { cursor: 3, runs: { [model.runs[0].id]: { epoch: [1], train_loss: [1], val_loss: [1], grad_norms: [null] } } }), 1);
  assert.deepEqual(model.runs.map((r) => r.epochs.length), [1, 0]);
  assert.equal(model.runs[1].status, "queued");
});

test("a shared run names the run its numbers came from, from the API's run or its summary", () => {
  const m = meta();
  m.runs[0].shared_from = 41;
  const model = modelFrom(m, (i) => COLORS[i]);
  assert.deepEqual(model.runs.map((r) => r.sharedFrom), [41, null]);
  applyEvent(model, { type: "summary", run_id: model.runs[1].id, status: "completed", epochs_run: 3, extra: { shared_from: 42 } });
  assert.deepEqual(model.runs.map((r) => r.sharedFrom), [41, 42]);
});

test("a replay grows every run again epoch by epoch and ends as the finished experiment", async () => {
  const { replayModel, replayTo, variantStats } = await import("../../frontend/views/experiment-model.js");
  const model = modelFrom(meta({ repeats: 2 }), (i) => COLORS[i]);
  for (const run of model.runs) {
    const last = run.id === model.runs[0].id ? 2 : 4; // the first one stopped early
    for (let e = 1; e <= last; e++) applyEvent(model, epoch(run.id, e, 1 / e));
    applyEvent(model, { type: "summary", run_id: run.id, status: last === 2 ? "stopped_early" : "completed", epochs_run: last });
  }
  for (const e of [2, 4]) applyEvent(model, { type: "snapshot", run_id: model.runs[1].id, epoch: e, kind: "histogram", data: {} });
  const replay = replayModel(model);
  assert.deepEqual(replay.snapshotEpochs, []);
  assert.deepEqual(replay.runs.map((r) => [r.epochs.length, r.status, r.summary]), model.runs.map(() => [0, "running", null]));
  assert.equal(replay.variants[0].runs[0], replay.runs[0], "the variants hold the replay's runs");
  assert.equal(replayTo(replay, 1), false);
  assert.deepEqual(replay.runs.map((r) => r.epochs.length), [1, 1, 1, 1]);
  assert.equal(replayTo(replay, 2), false);
  assert.deepEqual(replay.runs.map((r) => r.status), ["stopped_early", "running", "running", "running"]);
  assert.equal(replay.runs[0].stoppedAt, 2);
  assert.deepEqual(replay.snapshotEpochs, [2], "a snapshot shows once its epoch is replayed");
  assert.deepEqual(variantStats(replay.variants[0], (r) => r.val_loss).x, [1, 2], "a stopped seed no longer holds its variant back");
  assert.equal(replayTo(replay, 4), true);
  assert.deepEqual(replay.runs.map((r) => r.epochs.map((row) => row.epoch)), model.runs.map((r) => r.epochs.map((row) => row.epoch)));
  assert.deepEqual(replay.runs.map((r) => r.summary), model.runs.map((r) => r.summary));
  assert.equal(replay.duplicates, 0);
  assert.deepEqual(replay.snapshotEpochs, [2, 4]);
  assert.equal(model.runs[1].epochs.length, 4, "the finished model itself is untouched");
  assert.deepEqual(model.snapshotEpochs, [2, 4]);
});
