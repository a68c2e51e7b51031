// Plotly figures of one run's snapshot: weight histogram and decision boundary (small multiples).

import { fontSize } from "../charts.js";
import { t } from "../i18n.js";

const DIVERGING = [[0, "#0072B2"], [0.5, "#f7f7f7"], [1, "#E69F00"]];
const CLASS_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442", "#999999", "#882255"];
const CLASS_SYMBOLS = ["circle", "x", "square", "diamond", "triangle-up", "star", "cross", "pentagon", "hexagon", "triangle-down"];


const small = () => ({ l: 4 * fontSize() + 2, r: 8, t: 2 * fontSize() + 10, b: 3 * fontSize() });

function centres(edges) {
  return edges.slice(0, -1).map((e, i) => (e + edges[i + 1]) / 2);
}

/** All weights of the run, one bar series per layer, stacked: L1's spike at zero shows at once. */
export function histogramFigure(run, snap) {
  const d = snap.data;
  const x = centres(d.edges);
  const n = d.layers.length;
  const data = d.layers.map((layer, i) => ({
    type: "bar",
    name: t("chart.layer", { n: layer.layer + 1 }),
    x,
    y: layer.counts,
    marker: { color: run.color, opacity: 1 - (0.6 * i) / Math.max(1, n - 1), line: { width: 0 } },
    hovertemplate: `${t("chart.layer", { n: layer.layer + 1 })}<br>${t("figure.hist.hover")}<extra></extra>`,
  }));
  const zeros = d.layers.reduce((sum, l) => sum + l.zeros, 0);
  const outside = d.layers.reduce((sum, l) => sum + l.below + l.above, 0);
  const notes = [zeros ? t("figure.hist.zeros", { n: zeros }) : null, outside ? t("figure.hist.outside", { n: outside }) : null].filter(Boolean).join(t("list.sep"));
  return {
    title: `${run.name} · ${t("figure.epoch", { epoch: snap.epoch })}${notes ? ` · ${notes}` : ""}`,
    data,
    layout: {
      barmode: "stack",
      bargap: 0,
      margin: small(),
      xaxis: { title: { text: t("figure.hist.x"), standoff: 2 }, zeroline: true, zerolinecolor: "#52606d", range: [-1.5, 1.5] },
      // Log counts: a spike of thousands at 0 and a tail of a few weights both stay visible.
      yaxis: { gridcolor: "#e6e9ee", type: "log", dtick: 1, exponentformat: "power", title: { text: t("figure.hist.y"), standoff: 2 } },
      hovermode: "closest",
    },
  };
}

function pointTraces(points, symbolOffset = 0, name = t("figure.points.train")) {
  if (!points) return [];
  const classes = [...new Set(points.y)].sort((a, b) => a - b);
  return classes.map((c) => {
    const idx = points.y.map((l, i) => (l === c ? i : -1)).filter((i) => i >= 0);
    return {
      type: "scatter", mode: "markers", name: t("figure.points.name", { name, c }),
      x: idx.map((i) => points.x1[i]), y: idx.map((i) => points.x2[i]),
      marker: { size: 5, color: CLASS_COLORS[(c + symbolOffset) % 10], symbol: CLASS_SYMBOLS[c % 10], line: { width: 0.7, color: "#1f2933" } },
      hovertemplate: `${t("figure.points.hover", { name, c })}<extra></extra>`,
    };
  });
}

/** Predicted class over the input plane, with the training points on top. */
export function boundaryFigure(run, snap) {
  const d = snap.data;
  const multiclass = Array.isArray(d.label);
  const classes = multiclass ? Math.max(2, 1 + Math.max(...d.label.flat())) : 2;
  const data = [multiclass
    ? { type: "heatmap", x: d.x, y: d.y, z: d.label, zmin: 0, zmax: classes - 1, showscale: false, opacity: 0.5,
        colorscale: CLASS_COLORS.slice(0, classes).flatMap((c, i) => [[i / classes, c], [(i + 1) / classes, c]]),
        hovertemplate: `${t("figure.boundary.class")}<extra></extra>` }
    : { type: "heatmap", x: d.x, y: d.y, z: d.p, zmin: 0, zmax: 1, colorscale: DIVERGING, showscale: false, opacity: 0.85,
        hovertemplate: `${t("figure.boundary.p")}<extra></extra>` }];
  data.push(...pointTraces(run.points && run.points.train));
  return {
    title: `${run.name} · ${t("figure.epoch", { epoch: snap.epoch })}`,
    data,
    layout: { margin: small(), xaxis: { showgrid: false, zeroline: false, range: [d.x[0], d.x.at(-1)] },
      yaxis: { showgrid: false, zeroline: false, range: [d.y[0], d.y.at(-1)] }, hovermode: "closest" },
  };
}
