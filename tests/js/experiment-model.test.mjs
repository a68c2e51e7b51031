// The live view's model: what each websocket message changes, with no browser and no drawing.

import assert from "node:assert/strict";
import { test } from "node:test";

import { allFinal, applyEvent, markersOf, modelFrom, snapshotAt } from "../../frontend/views/experiment-model.js";

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
});

test("a message about a run of another experiment changes nothing", () => {
  const model = modelFrom(meta(), (i) => COLORS[i]);
  assert.equal(applyEvent(model, epoch(999, 1, 0.5)), null);
  assert.ok(model.runs.every((r) => r.epochs.length === 0));
});
