// Dropout as an average of thinned nets: per variant that asked for them (train.thinned_nets),
// its scaled full net beside single thinned nets and the averages of N of them on the input
// plane, how far each average is from the scaled net, and the validation losses over epochs
// (the 'ensemble' snapshots, training/ensemble.py).

import { axis, chartLayout, CONFIG, fontSize } from "../charts.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

const DIVERGING = [[0, "#0072B2"], [0.5, "#f7f7f7"], [1, "#E69F00"]];
const SIZE_COLORS = ["#9aa5b1", "#56B4E9", "#009E73", "#CC79A7", "#D55E00"]; // N = 1 … 256
const COLUMNS = 5;

/** The comparison's variants whose runs picture thinned nets. */
export function thinnedVariants(model) {
  return model.variants.filter((v) => v.runs[0].spec.train?.thinned_nets);
}

/** The run's ensemble snapshots as [epoch, data], oldest first. */
export function ensembleSeries(run) {
  return [...(run.snapshots.ensemble || new Map()).entries()].sort((a, b) => a[0] - b[0]);
}

const num = (x, digits = 2) => String(+x.toPrecision(digits));

/** The plane's cells: [title, grid] in reading order, two rows of COLUMNS. */
function cells(data) {
  const top = [[t("ensemble.cell.full"), data.full], ...data.thinned.map((g, i) => [t("ensemble.cell.thinned", { n: i + 1 }), g])];
  if (data.exact) top.push([t("ensemble.cell.exact", { n: data.exact.masks, d: data.exact.max_diff.toExponential(1) }), data.exact.average]);
  const bottom = data.sizes.map((n, i) => [t("ensemble.cell.average", { n, d: num(data.diff[i]) }), data.average[i]]);
  return [top, bottom];
}

/** One figure of small heatmaps (probability of class 1) over the input plane, with titles. */
export function planeFigure(data, points) {
  const rows = cells(data);
  const traces = [];
  const layout = { annotations: [], showlegend: false };
  const gap = 0.02;
  const width = (1 - gap * (COLUMNS - 1)) / COLUMNS;
  const height = 0.4;
  let i = 0;
  rows.forEach((row, r) => {
    row.forEach(([title, grid], c) => {
      i += 1;
      const x0 = c * (width + gap);
      const y0 = r === 0 ? 1 - height - 0.06 : 0;
      const ax = i === 1 ? "" : String(i);
      layout[`xaxis${ax}`] = { domain: [x0, x0 + width], anchor: `y${ax}`, showticklabels: false, showgrid: false, zeroline: false, range: [data.x[0], data.x.at(-1)] };
      layout[`yaxis${ax}`] = { domain: [y0, y0 + height], anchor: `x${ax}`, showticklabels: false, showgrid: false, zeroline: false, range: [data.y[0], data.y.at(-1)] };
      traces.push({ type: "heatmap", x: data.x, y: data.y, z: grid, zmin: 0, zmax: 1, zsmooth: "best", colorscale: DIVERGING, showscale: false, xaxis: `x${ax}`, yaxis: `y${ax}`,
        hovertemplate: `${t("ensemble.hover")}<extra></extra>` });
      if (points) {
        traces.push({ type: "scatter", mode: "markers", x: points.x1, y: points.x2, xaxis: `x${ax}`, yaxis: `y${ax}`, hoverinfo: "skip",
          marker: { size: 3, color: points.y.map((l) => (l ? "#E69F00" : "#0072B2")), line: { width: 0.4, color: "#1f2933" } } });
      }
      layout.annotations.push({ text: title, xref: "paper", yref: "paper", x: x0 + width / 2, y: y0 + height, yanchor: "bottom", xanchor: "center", showarrow: false,
        font: { size: fontSize() - 1 } });
    });
  });
  return { data: traces, layout };
}

export class EnsemblePanel {
  constructor(el, { model, variants }) {
    this.el = el;
    this.model = model;
    this.version = -1;
    el.append(h("h2", {}, t("ensemble.title")), h("p", { class: "muted small" }, t("ensemble.lead")));
    this.rows = variants.map((v) => {
      const spec = v.runs[0].spec.regularization;
      const plane = h("div", { class: "chart ensemble-plane", "data-chart": `ensemble-plane-${v.name}` });
      const loss = h("div", { class: "chart", "data-chart": `ensemble-loss-${v.name}` });
      const diff = h("div", { class: "chart", "data-chart": `ensemble-diff-${v.name}` });
      const note = h("p", { class: "small ensemble-note" }, t("ensemble.waiting"));
      const box = h("div", { class: "ensemble-variant", "data-variant": v.name },
        h("h3", {}, t("ensemble.rates", { name: v.name, input: spec.input_dropout, hidden: spec.dropout })),
        note, h("div", { class: "panel" }, plane),
        h("div", { class: "chart-grid" }, h("div", { class: "panel" }, loss), h("div", { class: "panel" }, diff)));
      el.append(box);
      return { variant: v, plane, loss, diff, note };
    });
  }

  /** Redraws when a snapshot came (the model's snapshotsVersion moved). */
  update() {
    if (this.version === this.model.snapshotsVersion) return;
    this.version = this.model.snapshotsVersion;
    for (const row of this.rows) this.draw(row);
  }

  draw(row) {
    const run = row.variant.runs[0];
    // A replay shows the snapshots of the epochs it has replayed so far, as the slider does.
    const upTo = this.model.snapshotEpochs.at(-1) ?? Infinity;
    const series = ensembleSeries(run).filter(([e]) => e <= upTo);
    if (!series.length) return;
    const [epoch, data] = series.at(-1);
    row.note.textContent = data.exact
      ? t("ensemble.exact", { epoch, n: data.exact.masks, d: data.exact.max_diff.toExponential(1) })
      : t("ensemble.epoch", { epoch, one: num(data.diff[0]), many: num(data.diff.at(-1)), n: data.sizes.at(-1) });
    const plane = planeFigure(data, run.points?.train);
    Plotly.react(row.plane, plane.data, { ...chartLayout("", plane.layout), margin: { l: 4, r: 4, t: 8, b: 4 }, annotations: plane.layout.annotations }, CONFIG);

    const epochs = series.map(([e]) => e);
    const losses = [{ x: epochs, y: series.map(([, d]) => d.val_full), name: t("ensemble.loss.scaled"), mode: "lines+markers", line: { color: "#1f2933", width: 3 } }];
    data.sizes.forEach((n, i) => losses.push({ x: epochs, y: series.map(([, d]) => d.val_average[i]), mode: "lines+markers",
      name: n === 1 ? t("ensemble.loss.single") : t("ensemble.loss.average", { n }), line: { color: SIZE_COLORS[i], width: 2, dash: n === 1 ? "dot" : "solid" }, marker: { size: 4 } }));
    Plotly.react(row.loss, losses, chartLayout(t("ensemble.loss.chart"), {
      xaxis: axis(t("chart.epoch")), yaxis: axis(t("ensemble.loss.y")), showlegend: true, legend: { orientation: "h", y: -0.3 },
    }), CONFIG);

    Plotly.react(row.diff, [{ x: data.sizes, y: data.diff, mode: "lines+markers", name: t("ensemble.diff.chart"), line: { color: row.variant.color, width: 2.5 }, marker: { size: 8 },
      hovertemplate: `${t("ensemble.diff.hover")}<extra></extra>` }], chartLayout(t("ensemble.diff.chart", { epoch }), {
      xaxis: axis(t("ensemble.diff.x"), { type: "log", tickvals: data.sizes, ticktext: data.sizes.map(String) }), yaxis: axis(t("ensemble.diff.y"), { rangemode: "tozero" }),
    }), CONFIG);
  }
}
