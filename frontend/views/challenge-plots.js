// A challenge's figures: the board (each entry's mean and 95 % interval, baselines as lines), the
// class picture (each entry's score against each field the class changed) and the shake-up.

import { CONFIG, PALETTE, chartLayout, fontSize } from "../charts.js";
import { msg, t } from "../i18n.js";

const Plotly = window.Plotly;
// Fields drawn on a log axis: penalties and the learning rate span decades (as compare.py's LOG_FIELDS).
const LOG_FIELDS = new Set(["optimizer.lr", "regularization.l1", "regularization.l2", "regularization.weight_decay"]);
const BASELINE_COLOR = { simple: "#7b8794", medium: "#E69F00", strong: "#D55E00" };

const METRIC_TEXT = { accuracy: msg("challenge.metric.accuracy"), loss: msg("challenge.metric.loss") };
/** A challenge's metric ("accuracy" or "loss") in the page's language. */
export const metricText = (metric) => (METRIC_TEXT[metric] ? t(METRIC_TEXT[metric]) : metric);
/** A baseline's name: simple, medium and strong stay the English words, after the word baseline. */
const baselineText = (name) => t("challenge.baseline.name", { name });
const STATUS_TEXT = { open: msg("challenge.status.open"), closed: msg("challenge.status.closed"), revealed: msg("challenge.status.revealed") };
/** A challenge's status (open, closed, revealed) in the page's language. */
export const challengeStatusText = (status) => (STATUS_TEXT[status] ? t(STATUS_TEXT[status]) : status);

const label = (row) => (row.kind === "baseline" ? baselineText(row.name) : `${row.owner} · ${row.name}`);
const scored = (rows, split = "public") => rows.filter((r) => r.kind === "entry" && r[split]);
const half = (s, side) => (s[side] === null || s[side] === undefined ? 0 : Math.abs(s[side] - s.mean));

/** Vertical (or horizontal) dashed lines at each baseline's public mean, labelled. */
function baselineLines(board, axis, ref = {}) {
  const shapes = [];
  const notes = [];
  // Baselines at one score share one label ("simple = medium"), not three printed over each other.
  const named = new Map();
  for (const b of board.rows.filter((r) => r.kind === "baseline" && r.public)) {
    const at = b.public.mean;
    named.set(at, [...(named.get(at) || []), b.name]);
  }
  for (const [at, names] of named) {
    const color = BASELINE_COLOR[names.at(-1)] || "#7b8794";
    const text = names.join(" = ");
    const line = { type: "line", line: { color, dash: "dash", width: 2 } };
    if (axis === "x") {
      shapes.push({ ...line, xref: ref.x || "x", yref: "paper", x0: at, x1: at, y0: 0, y1: 1 });
      notes.push({ xref: ref.x || "x", yref: "paper", x: at, y: 1, yanchor: "bottom", text, showarrow: false, font: { color } });
    } else {
      const xref = `${ref.x || "x"} domain`;
      shapes.push({ ...line, xref, yref: ref.y || "y", x0: 0, x1: 1, y0: at, y1: at });
      notes.push({ xref, yref: ref.y || "y", x: 1, y: at, xanchor: "right", yanchor: "bottom", text, showarrow: false, font: { color, size: fontSize() - 1 } });
    }
  }
  return { shapes, notes };
}

/** The public board: one row per scored entry, its mean and interval; tied rows hollow. */
export function drawBoard(el, board) {
  const rows = scored(board.rows).slice().reverse(); // the leader on top
  const { shapes, notes } = baselineLines(board, "x");
  const trace = {
    type: "scatter",
    mode: "markers",
    x: rows.map((r) => r.public.mean),
    y: rows.map((r) => `${r.rank}. ${label(r)}`),
    error_x: { type: "data", symmetric: false, array: rows.map((r) => half(r.public, "high")), arrayminus: rows.map((r) => half(r.public, "low")), color: PALETTE[0] },
    marker: { size: 11, color: PALETTE[0], symbol: rows.map((r) => (r.tied ? "circle-open" : "circle")) },
    hovertemplate: "%{y}: %{x:.4f}<extra></extra>",
  };
  const layout = chartLayout(t("challenge.plot.board", { metric: metricText(board.metric) }), {
    shapes,
    annotations: notes,

    xaxis: { title: { text: t("challenge.public", { metric: metricText(board.metric) }) }, zeroline: false },
    yaxis: { automargin: true },
  });
  el.style.height = `${Math.max(290, 90 + 30 * rows.length)}px`; // a row per entry, however many
  Plotly.react(el, [trace], layout, { ...CONFIG, displayModeBar: false });
}

/** The fields any entry changed: the class's sweep. */
export function changedFields(board) {
  const fields = new Set();
  for (const r of board.rows) if (r.kind === "entry") for (const k of Object.keys(r.changed || {})) fields.add(k);
  return [...fields].sort();
}

/**
 * The class picture: per changed field, each entry a point (x: its value of the field, the base's
 * when it left it; y: public mean, its seed interval as a bar), the baselines as lines.
 */
export function drawClass(el, board, base) {
  const fields = changedFields(board);
  const rows = scored(board.rows);
  if (!fields.length || !rows.length) {
    Plotly.purge(el);
    el.textContent = "";
    return false;
  }
  const traces = [];
  const layout = chartLayout(t("challenge.plot.class"), {
    grid: { rows: 1, columns: fields.length, pattern: "independent", xgap: 0.12 },
    shapes: [],
    annotations: [],
  });
  fields.forEach((field, i) => {
    const n = i === 0 ? "" : String(i + 1);
    const baseValue = field.split(".").reduce((o, k) => o?.[k], base);
    const values = rows.map((r) => (field in (r.changed || {}) ? r.changed[field] : baseValue));
    const positive = values.filter((v) => typeof v === "number" && v > 0);
    const log = LOG_FIELDS.has(field) && positive.length > 0;
    // On a log axis a value of 0 (no penalty) sits a decade left of the smallest one, said on hover.
    const floor = log ? Math.min(...positive) / 10 : 0;
    traces.push({
      type: "scatter",
      mode: "markers",
      xaxis: `x${n}`,
      yaxis: `y${n}`,
      x: values.map((v) => (log && !(v > 0) ? floor : v)),
      y: rows.map((r) => r.public.mean),
      text: rows.map((r, j) => `${label(r)}<br>${field} = ${values[j]}`),
      error_y: { type: "data", symmetric: false, array: rows.map((r) => half(r.public, "high")), arrayminus: rows.map((r) => half(r.public, "low")), color: PALETTE[2] },
      marker: { size: 10, color: PALETTE[2] },
      hovertemplate: "%{text}<br>%{y:.4f}<extra></extra>",
    });
    const zeros = log && values.some((v) => !(v > 0));
    const title = log ? (zeros ? t("challenge.plot.logZero", { field }) : t("challenge.plot.log", { field })) : field;
    layout[`xaxis${n}`] = { title: { text: title }, type: log ? "log" : "linear", automargin: true };
    layout[`yaxis${n}`] = { title: { text: i === 0 ? t("challenge.public", { metric: metricText(board.metric) }) : "" } };
    const { shapes, notes } = baselineLines(board, "y", { x: `x${n}`, y: `y${n}` });
    layout.shapes.push(...shapes);
    layout.annotations.push(...notes);
  });
  layout.margin = { ...layout.margin, b: 4.5 * fontSize() };
  Plotly.react(el, traces, layout, { ...CONFIG, displayModeBar: false });
  return true;
}

/** After the reveal: public against private mean, one point per entry; off the diagonal is luck. */
export function drawShakeUp(el, board) {
  const rows = scored(board.rows, "private").filter((r) => r.public);
  const all = rows.flatMap((r) => [r.public.mean, r.private.mean]);
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const trace = {
    type: "scatter",
    mode: "markers+text",
    x: rows.map((r) => r.public.mean),
    y: rows.map((r) => r.private.mean),
    text: rows.map((r) => `${label(r)} (${r.rank}→${r.private_rank})`),
    textposition: "top center",
    marker: { size: 11, color: PALETTE[3] },
    hovertemplate: `%{text}<br>${t("challenge.plot.hoverPublic")} %{x:.4f}<br>${t("challenge.plot.hoverPrivate")} %{y:.4f}<extra></extra>`,
  };
  const layout = chartLayout(t("challenge.plot.shake"), {
    xaxis: { title: { text: t("challenge.plot.shakeX", { metric: metricText(board.metric) }) } },
    yaxis: { title: { text: t("challenge.private", { metric: metricText(board.metric) }) }, automargin: true },
    shapes: [{ type: "line", x0: lo, y0: lo, x1: hi, y1: hi, line: { color: "#9aa5b1", dash: "dot" } }],
  });
  Plotly.react(el, [trace], layout, { ...CONFIG, displayModeBar: false });
}
