"""An experiment as one standalone HTML page: Plotly curves, a summary table, plotly.js inside."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reglab.store.records import ExperimentRecord, MetricRow

# plotly.js as shipped in the package (the dashboard serves the same file at /static/plotly.min.js):
# v4.1.1's cartesian bundle (scatter, bar, heatmap and a few more), the traces reglab draws.
PLOTLY_JS = Path(__file__).resolve().parent / "static" / "plotly.min.js"


def _finite(values: Sequence[float | None]) -> list[float | None]:
    """A diverged epoch's NaN or Inf becomes a gap in the line (JSON has no NaN)."""
    return [v if v is not None and math.isfinite(v) else None for v in values]


def _figure(
    experiment: ExperimentRecord, metrics: Mapping[int, Sequence[MetricRow]]
) -> dict[str, Any]:
    """Plotly's figure (data and layout) of one row of panels, as plotly.py's make_subplots lays
    them out: equal widths, 0.2 / panels of the width between them, titles above."""
    has_acc = any(row.val_acc is not None for rows in metrics.values() for row in rows)
    titles = ["Training loss", "Validation loss"] + (["Validation accuracy"] if has_acc else [])
    cols = len(titles)
    gap = 0.2 / cols
    width = (1 - gap * (cols - 1)) / cols
    layout: dict[str, Any] = {
        "height": 420,
        "margin": {"t": 60, "l": 50, "r": 20, "b": 40},
        "annotations": [],
    }
    for col, title in enumerate(titles, start=1):
        left = (col - 1) * (width + gap)
        suffix = "" if col == 1 else str(col)
        layout[f"xaxis{suffix}"] = {
            "anchor": f"y{suffix}",
            "domain": [left, min(left + width, 1.0)],
            "title": {"text": "epoch"},
        }
        layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "domain": [0.0, 1.0]}
        layout["annotations"].append(
            {
                "text": title,
                "x": left + width / 2,
                "y": 1.0,
                "xref": "paper",
                "yref": "paper",
                "xanchor": "center",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 16},
            }
        )
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"]
    data: list[dict[str, Any]] = []
    for i, run in enumerate(experiment.runs):
        rows = metrics.get(run.id, [])
        epochs = [r.epoch for r in rows]
        color = palette[i % len(palette)]
        series: list[list[float | None]] = [
            [r.train_loss for r in rows],
            [r.val_loss for r in rows],
        ]
        if has_acc:
            series.append([r.val_acc for r in rows])
        for col, values in enumerate(series, start=1):
            suffix = "" if col == 1 else str(col)
            data.append(
                {
                    "type": "scatter",
                    "x": epochs,
                    "y": _finite(values),
                    "name": run.name,
                    "legendgroup": run.name,
                    "showlegend": col == 1,
                    "line": {"color": color},
                    "xaxis": f"x{suffix}",
                    "yaxis": f"y{suffix}",
                }
            )
    return {"data": data, "layout": layout}


def _plot(figure: Mapping[str, Any]) -> str:
    """The figure and plotly.js inline, drawn when the page loads: no server, no CDN."""

    def script_safe(value: object) -> str:
        # Inside <script>, "</" could end the element early (a run named "</script>").
        return json.dumps(value, allow_nan=False).replace("</", "<\\/")

    return (
        f"<script>{PLOTLY_JS.read_text(encoding='utf-8')}</script>"
        '<div id="reglab-report-plot" style="height:420px;width:100%"></div>'
        "<script>Plotly.newPlot(document.getElementById('reglab-report-plot'), "
        f"{script_safe(figure['data'])}, {script_safe(figure['layout'])}, "
        '{"responsive": true});</script>'
    )


def _table(experiment: ExperimentRecord) -> str:
    heads = [
        "run",
        "status",
        "best epoch",
        "best val loss",
        "final train",
        "final val",
        "gap",
        "test acc",
        "sparsity",
    ]
    keys = [
        "best_epoch",
        "best_val_loss",
        "final_train_loss",
        "final_val_loss",
        "gap",
        "test_acc",
        "sparsity",
    ]

    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return "" if value is None else html.escape(str(value))

    body = "".join(
        "<tr>"
        + cell(run.name).join(["<td>", "</td>"])
        + f"<td>{cell(run.status)}</td>"
        + "".join(f"<td>{cell((run.summary or {}).get(k))}</td>" for k in keys)
        + "</tr>"
        for run in experiment.runs
    )
    head = "".join(f"<th>{h}</th>" for h in heads)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_report(experiment: ExperimentRecord, metrics: Mapping[int, Sequence[MetricRow]]) -> str:
    """A complete HTML page that opens offline: no server, no CDN."""
    plot = _plot(_figure(experiment, metrics))
    title = html.escape(f"reglab — {experiment.name} (experiment {experiment.id})")
    style = (
        "body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}"
        "td:first-child,th:first-child{text-align:left}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{style}</style></head><body><h1>{title}</h1>"
        f"<p>{html.escape(experiment.description)}</p>"
        f"<p>Owner: {html.escape(experiment.owner)} · "
        f"created {experiment.created_at:%Y-%m-%d %H:%M} UTC"
        " · runs share data split, initial weights and batch order; only the named fields differ."
        f"</p>{plot}<h2>Summary</h2>{_table(experiment)}</body></html>"
    )
