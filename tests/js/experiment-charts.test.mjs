// The live view's chart rows against the per-epoch metrics the API declares (GET /api/metrics).

import assert from "node:assert/strict";
import { test } from "node:test";

import { checkChartRows, SERIES_CHARTS } from "../../frontend/views/experiment-charts.js";

const scalar = (name) => ({ name, meaning: name, per_layer: false, optional: false });
const plotted = SERIES_CHARTS.flatMap((row) => row.metrics.flatMap((m) => m.uses ?? [m.key]));

test("chart rows pass when every metric they plot is declared as one number per epoch", () => {
  assert.doesNotThrow(() => checkChartRows([...new Set(plotted)].map(scalar)));
});

test("a chart row for an undeclared metric fails naming the chart and the metric", () => {
  const declared = plotted.filter((name) => name !== "step_size").map(scalar);
  assert.throws(() => checkChartRows(declared), /the step chart plots step_size, which GET \/api\/metrics does not declare/);
});

test("a derived row is checked by what it uses, and a per-layer metric cannot be a line", () => {
  const declared = plotted.filter((name) => name !== "val_loss").map(scalar);
  assert.throws(() => checkChartRows(declared), /the loss chart plots val_loss/);
  const rows = [{ key: "grads", metrics: [{ key: "grad_norms" }] }];
  assert.throws(() => checkChartRows([{ ...scalar("grad_norms"), per_layer: true }], rows), /the grads chart plots grad_norms/);
  const gap = SERIES_CHARTS.filter((row) => row.key === "gap");
  assert.throws(() => checkChartRows([scalar("train_loss")], gap), /the gap chart plots val_loss/);
});
