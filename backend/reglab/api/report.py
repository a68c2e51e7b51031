"""An experiment as one standalone HTML page: Plotly curves, a summary table, plotly.js inside."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reglab.store.records import ExperimentRecord, MetricRow


def _figure(experiment: ExperimentRecord, metrics: Mapping[int, Sequence[MetricRow]]) -> go.Figure:
    has_acc = any(row.val_acc is not None for rows in metrics.values() for row in rows)
    titles = ["Training loss", "Validation loss"] + (["Validation accuracy"] if has_acc else [])
    fig = make_subplots(rows=1, cols=len(titles), subplot_titles=titles)
    palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"]
    for i, run in enumerate(experiment.runs):
        rows = metrics.get(run.id, [])
        epochs = [r.epoch for r in rows]
        color = palette[i % len(palette)]
        series = [[r.train_loss for r in rows], [r.val_loss for r in rows]]
        if has_acc:
            series.append([r.val_acc for r in rows])
        for col, values in enumerate(series, start=1):
            fig.add_trace(
                go.Scatter(
                    x=epochs,
                    y=values,
                    name=run.name,
                    legendgroup=run.name,
                    showlegend=col == 1,
                    line={"color": color},
                ),
                row=1,
                col=col,
            )
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(height=420, margin={"t": 60, "l": 50, "r": 20, "b": 40})
    return fig


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
    plot = _figure(experiment, metrics).to_html(full_html=False, include_plotlyjs=True)
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
