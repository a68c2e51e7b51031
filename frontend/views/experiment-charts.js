// The live view's time-series charts: what each plots, the series it draws for a model, and how
// it takes its points from the model as it draws (a chart off screen takes nothing).

import { msg, t } from "../i18n.js";
import { variantStats } from "./experiment-model.js";

// The time-series charts: what each plots (train solid, validation dashed) and which metric gets
// the band over replicates. The loss chart draws every frame it can; the others 4 times a second. Plotly itself (axes, hover, markers)
// catches up every 2.5 s on the loss chart, 10 s on the others, and at once under the pointer.
export const SERIES_CHARTS = [
  { key: "loss", title: msg("chart.loss.title"), yTitle: msg("chart.loss.y"), logY: true, markers: true, priority: 0, minInterval: 0, syncMs: 2500,
    metrics: [{ key: "train_loss", label: msg("chart.train") }, { key: "val_loss", label: msg("chart.validation"), dash: "dash", band: true }] },
  { key: "accuracy", task: "classification", title: msg("chart.accuracy.title"), yTitle: msg("chart.accuracy.y"), percent: true,
    metrics: [{ key: "train_acc", label: msg("chart.train") }, { key: "val_acc", label: msg("chart.validation"), dash: "dash", band: true }] },
  { key: "gap", title: msg("chart.gap.title"), yTitle: msg("chart.gap.y"),
    metrics: [{ key: "gap", label: msg("chart.gap.y"), value: (r) => r.val_loss - r.train_loss, uses: ["train_loss", "val_loss"], band: true }] },
  { key: "norm", title: msg("chart.norm.title"), yTitle: msg("chart.norm.y"), logY: true,
    metrics: [{ key: "weight_l2", label: msg("chart.norm.y"), band: true }] },
  { key: "zeros", title: msg("chart.zeros.title"), yTitle: msg("chart.zeros.y"), percent: true,
    metrics: [{ key: "sparsity", label: msg("chart.zeros.label"), band: true }] },
  // Each epoch's mean |Δw| per update: Adagrad's keeps shrinking, RMSProp's levels off (the
  // optimizers lesson). Always on a log axis: the steps of different optimizers differ by decades.
  { key: "step", title: msg("chart.step.title"), yTitle: msg("chart.step.y"), logY: true, alwaysLog: true,
    metrics: [{ key: "step_size", label: msg("chart.step.label"), band: true }] },
];

/**
 * Throws, naming the chart, when a chart row plots a metric the API does not declare as one number
 * per epoch (GET /api/metrics' `metrics`): a row for a metric renamed or never declared would
 * otherwise draw an empty chart. A derived row names what it `uses`.
 */
export function checkChartRows(declared, rows = SERIES_CHARTS) {
  const scalars = new Set(declared.filter((m) => !m.per_layer).map((m) => m.name));
  for (const row of rows) {
    for (const m of row.metrics) {
      const missing = (m.uses ?? [m.key]).filter((name) => !scalars.has(name));
      if (missing.length) throw new Error(`reglab: the ${row.key} chart plots ${missing.join(", ")}, which GET /api/metrics does not declare as one number per epoch`);
    }
  }
}

/** The series a chart plots: one line per run and metric; with replicates, per variant a band, a mean line and the replicates (hidden). */
export function seriesOf(spec, model) {
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
 * Hands `chart` the epochs of the model it has not taken yet and, with replicates, each variant's
 * mean and band points as far as all its replicates have come.
 */
export function feed(chart, model, view) {
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
