// L1 against L2 by weight size: what each penalty takes from one weight per update (L2 a share,
// L1 a fixed amount), where the two cross, and from the runs, how the weights that started
// small, middling and large shrank under each (the histogram snapshots' `by_third`).

import { axis, chartLayout, CONFIG } from "../charts.js";
import { h } from "../dom.js";
import { msg, t } from "../i18n.js";

const THIRDS = [msg("shrink.third.small"), msg("shrink.third.middle"), msg("shrink.third.large")];
const DASH = ["dot", "dash", "solid"]; // small, middle, large third

/** The comparison's first L1-only variant and first L2-only variant, both under plain SGD, or null. */
export function penaltyPair(model) {
  const of = (v) => v.runs[0].spec;
  const l1 = model.variants.find((v) => of(v).regularization.l1 > 0 && !(of(v).regularization.l2 > 0));
  const l2 = model.variants.find((v) => of(v).regularization.l2 > 0 && !(of(v).regularization.l1 > 0));
  // The picture is plain SGD's update: under Adam and the like the penalty's gradient is rescaled.
  if (!l1 || !l2 || of(l1).optimizer.kind !== "sgd" || of(l2).optimizer.kind !== "sgd") return null;
  return { l1, l2, lambda1: of(l1).regularization.l1, lambda2: of(l2).regularization.l2, eta1: of(l1).optimizer.lr, eta2: of(l2).optimizer.lr };
}

/**
 * The shrink per update against |w|: L2's η·λ2·|w| (a line through zero), L1's η·λ1 (flat; the
 * proximal step takes at most the weight itself), and |w| where they cross.
 */
export function shrinkCurves(pair, wMax) {
  const n = 101;
  const w = Array.from({ length: n }, (_, i) => (wMax * i) / (n - 1));
  const proximal = pair.l1.runs[0].spec.regularization.l1_mode === "proximal";
  const l1 = w.map((x) => (proximal ? Math.min(pair.eta1 * pair.lambda1, x) : pair.eta1 * pair.lambda1));
  const l2 = w.map((x) => pair.eta2 * pair.lambda2 * x);
  const crossing = (pair.eta1 * pair.lambda1) / (pair.eta2 * pair.lambda2);
  return { w, l1, l2, crossing };
}

/** Per variant and third, its mean |w| over the snapshot epochs (epoch 0: at initialization). */
export function thirdsOverEpochs(run) {
  const epochs = [...run.snapshots.histogram.keys()].sort((a, b) => a - b);
  const first = epochs.length ? run.snapshots.histogram.get(epochs[0]).by_third_start : null;
  if (!first) return null;
  const x = [0, ...epochs];
  return THIRDS.map((_, i) => ({ x, y: [first[i], ...epochs.map((e) => run.snapshots.histogram.get(e).by_third[i])] }));
}

export class ShrinkPanel {
  constructor(el, { model, pair }) {
    this.el = el;
    this.model = model;
    this.pair = pair;
    this.version = -1;
    const { crossing } = shrinkCurves(pair, 1);
    this.lineEl = h("div", { class: "chart", "data-chart": "shrink" });
    this.thirdsEl = h("div", { class: "chart", "data-chart": "thirds" });
    this.where = h("p", { class: "small shrink-where" });
    el.append(
      h("h2", {}, t("shrink.title")),
      h("p", { class: "muted small" },
        t("shrink.lead", { eta: String(pair.eta2), lambda: String(pair.lambda2), amount: String(+(pair.eta1 * pair.lambda1).toPrecision(3)), crossing: String(+crossing.toPrecision(3)) })),
      h("div", { class: "chart-grid" }, h("div", { class: "panel" }, this.lineEl), h("div", { class: "panel" }, this.thirdsEl)),
      this.where);
    this.drawLines();
  }

  drawLines() {
    const { l1, l2 } = this.pair;
    const { crossing } = shrinkCurves(this.pair, 1);
    const c = shrinkCurves(this.pair, Math.max(1, 2 * crossing));
    const top = Math.max(...c.l2, ...c.l1);
    Plotly.react(this.lineEl, [
      { x: c.w, y: c.l2, name: `${l2.name}: η·λ2·|w|`, line: { color: l2.color, width: 2.5 }, hovertemplate: `${t("shrink.hover.l2")}<extra></extra>` },
      { x: c.w, y: c.l1, name: `${l1.name}: η·λ1`, line: { color: l1.color, width: 2.5 }, hovertemplate: `${t("shrink.hover.l1")}<extra></extra>` },
      { x: [crossing, crossing], y: [0, top], name: t("shrink.crossing", { w: String(+crossing.toPrecision(3)) }), mode: "lines", line: { color: "#52606d", dash: "dash", width: 1.5 }, hoverinfo: "skip" },
      { x: [crossing], y: [this.pair.eta1 * this.pair.lambda1], mode: "markers", showlegend: false, marker: { size: 10, color: "#1f2933", symbol: "circle-open", line: { width: 2 } },
        hovertemplate: `${t("shrink.hover.crossing")}<extra></extra>` },
    ], chartLayout(t("shrink.chart"), {
      xaxis: axis("|w|"), yaxis: axis(t("shrink.taken")), showlegend: true, legend: { orientation: "h", y: -0.25 },
      annotations: [
        { x: crossing, y: top, text: t("shrink.l2faster"), xanchor: "left", xshift: 6, showarrow: false, yanchor: "top" },
        { x: crossing, y: top, text: t("shrink.l1faster"), xanchor: "right", xshift: -6, showarrow: false, yanchor: "top" },
      ],
    }), CONFIG);
  }

  /** Redraws the thirds when a snapshot came (the model's snapshotsVersion moved). */
  update() {
    if (this.version === this.model.snapshotsVersion) return;
    this.version = this.model.snapshotsVersion;
    const traces = [];
    for (const v of [this.pair.l1, this.pair.l2]) {
      const series = thirdsOverEpochs(v.runs[0]);
      if (!series) continue;
      series.forEach((s, i) => traces.push({ x: s.x, y: s.y, name: `${v.name} · ${t(THIRDS[i])}`, mode: "lines+markers",
        line: { color: v.color, dash: DASH[i], width: 2 }, marker: { size: 4 }, hovertemplate: `${v.name}, ${t(THIRDS[i])}<br>${t("shrink.hover.third")}<extra></extra>` }));
    }
    if (!traces.length) return;
    // Where the runs' weights sit against the crossing decides which penalty shrinks them faster.
    const start = thirdsOverEpochs(this.pair.l2.runs[0])?.[2].y[0];
    const { crossing } = shrinkCurves(this.pair, 1);
    if (start !== undefined) {
      this.where.textContent = start < crossing
        ? t("shrink.where.below", { start: String(+start.toPrecision(2)), crossing: String(+crossing.toPrecision(3)) })
        : t("shrink.where.above", { start: String(+start.toPrecision(2)), crossing: String(+crossing.toPrecision(3)) });
    }
    Plotly.react(this.thirdsEl, traces, chartLayout(t("shrink.thirds.chart"), {
      xaxis: axis(t("chart.epoch")), yaxis: axis(t("shrink.thirds.mean")), showlegend: true, legend: { orientation: "h", y: -0.25 },
    }), CONFIG);
  }
}
