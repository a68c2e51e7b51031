"""The dashboard under load: comparisons streaming at full speed into a real Chromium page.

Starts a real `reglab serve` (temp SQLite file, 2 warm workers) and Debian's Chromium, and
reads what the page measured about itself in four scenarios:

- today: 8 runs × 1,500 epochs streaming;
- (a) 30 runs (6 variants × 5 replicates, drawn as bands) × 500 epochs streaming;
- (b) the same with Chromium's CPU throttled ×4 (a stand-in for a classroom laptop);
- (c) opening a finished 30-run experiment: time from navigation to every epoch on screen;
- (i) a control: the frame gaps of a page that draws nothing while (a)'s comparison trains.

While streaming: frame time (gaps between requestAnimationFrame callbacks, from the first drawn
epoch until the view says "finished") and event → drawn (from the websocket message's arrival to
the end of the draw that put its point on the loss chart), each streaming scenario three times ((b)
five) with the stream of median frame p95 reported (every try's numbers are printed too: one stream
is an anecdote on a 2-core box whose server trains beside the browser). Every tiny net trains one
full-batch step per epoch, so the engine emits epochs as fast as it can. The machine's load average
is printed with each scenario, and how many cores the renderer, the rest of Chromium, the server
and its workers kept busy during each stream: the numbers mean little without them (with the CPU
throttled, Chromium's renderer spins for three quarters of its main thread's time, working or idle:
about 0.9 of a core by itself on this 2-core box).
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, sync_playwright
from reglab.spec import MAX_MEMBER_EPOCHS

from tests.support import CHROMIUM, CHROMIUM_ARGS, reglab_serve

# spec.py caps runs × epochs in one experiment (MAX_MEMBER_EPOCHS): the finished experiment of
# (c) gets as many epochs per run as that allows, 2,000 at most.
MEMBER_EPOCHS_LIMIT = MAX_MEMBER_EPOCHS


@dataclass(frozen=True)
class Scenario:
    name: str
    variants: int
    repeats: int
    epochs: int
    throttle: float = 1.0
    frame_p95_ms: float | None = None
    draw_p95_ms: float | None = None
    open_ms: float | None = None  # (c): time to first full draw of a finished experiment
    idle: bool = False  # (i): a page that draws nothing, while the same comparison trains
    # Streams measured; the one with the median frame p95 is reported, with every try's numbers
    # (one stream's p95 moved from 33 to 67 ms between back-to-back runs of (b) on this box).
    tries: int = 1


def scenarios() -> list[Scenario]:
    epochs = int(os.environ.get("BENCH_EPOCHS", 1500))
    big = min(2000, MEMBER_EPOCHS_LIMIT // 30)
    return [
        Scenario("today: 8 runs x 1500 epochs", 8, 1, epochs, 1, 33, 100, tries=3),
        Scenario("(a) 6 variants x 5 replicates x 500 epochs", 6, 5, 500, 1, 33, 100, tries=3),
        # Five: one (b) stream's p95 ranged from 33 to 100 ms with the same page and load.
        Scenario("(b) as (a), CPU throttled x4", 6, 5, 500, 4, frame_p95_ms=50, tries=5),
        Scenario(f"(c) open a finished 30-run experiment of {big} epochs", 6, 5, big, open_ms=1500),
        Scenario("(i) control: an idle page's frames while (a) trains", 6, 5, 500, idle=True),
    ]


L2 = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)


def body(s: Scenario) -> dict[str, Any]:
    """l2 variants of a tiny moons net, each trained `repeats` times."""
    return {
        "name": f"browser bench {s.name}",
        "base": {
            "data": {"kind": "moons", "n_train": 200},
            "model": {"hidden": [32, 32]},
            "train": {"epochs": s.epochs, "batch_size": 200, "snapshot_every": 25},
        },
        "variants": [
            {"name": f"l2={l2}", "override": {"regularization": {"l2": l2}}}
            for l2 in L2[: s.variants]
        ],
        "repeats": s.repeats,
    }


# Installed before the page's own scripts: records the frame gaps while epochs stream in (from
# the first drawn epoch until the view says "finished"), not the idle frames around them.
FRAME_PROBE = """
window.__frames = [];
window.__streaming = () => {
  const s = window.reglabProbe.drawStats;
  return s && s.extends > 0 && document.querySelector('.conn')?.textContent !== 'finished';
};
(function tick(prev) {
  requestAnimationFrame((now) => {
    if (prev && window.__streaming()) window.__frames.push(now - prev);
    tick(now);
  });
})();
// Websocket messages: what the browser dispatches and parses (counted, not read).
window.__ws = { messages: 0 };
const NativeSocket = window.WebSocket;
window.WebSocket = class extends NativeSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', () => { window.__ws.messages += 1; });
  }
};
// Long animation frames (> 50 ms) while streaming, and where their time went: scripts (by what
// invoked them), style/layout/paint, or neither (the renderer waiting for a core).
window.__loaf = [];
try {
  new PerformanceObserver((list) => {
    if (!window.__streaming()) return;
    for (const f of list.getEntries()) {
      const scripts = {};
      for (const sc of f.scripts) {
        const key = sc.invokerType + ':' + (sc.invoker || '').slice(0, 40);
        scripts[key] = (scripts[key] || 0) + sc.duration;
      }
      const script = f.scripts.reduce((t, sc) => t + sc.duration, 0);
      // Style, layout and paint: after the frame's requestAnimationFrame callbacks (scripts).
      const render = f.styleAndLayoutStart ? f.startTime + f.duration - f.styleAndLayoutStart : 0;
      window.__loaf.push({ duration: f.duration, script, render, scripts });
    }
  }).observe({ type: 'long-animation-frame', buffered: false });
} catch (e) {}
"""
STATS = """() => {
  const s = window.reglabProbe.drawStats;
  const runs = window.reglabProbe.state.experiment.runs;
  return {frames: window.__frames, latencies: s.latencies, extends: s.extends,
          newPlots: s.newPlots, flushMs: s.flushMs, workMs: s.workMs, syncs: s.syncs,
          epochs: runs.reduce((n, r) => n + r.epochs.length, 0), ws: window.__ws,
          loaf: window.__loaf};
}"""


def _loaf(frames: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """Long animation frames summed up: how many, their time, and how much of it was the page's
    scripts (by invoker), rendering, or neither (time the renderer did not run)."""
    total = sum(f["duration"] for f in frames)
    script = sum(f["script"] for f in frames)
    render = sum(f["render"] for f in frames)
    by: dict[str, float] = {}
    for f in frames:
        for key, ms in f["scripts"].items():
            kind = key.split(":")[0]
            by[kind] = by.get(kind, 0) + ms
    return {
        "count": len(frames),
        "per_s": round(len(frames) / seconds, 2) if seconds else None,
        "total_ms": round(total),
        "script_ms": round(script),
        "render_ms": round(render),
        "other_ms": round(total - script - render),
        "script_ms_by_invoker": {k: round(v) for k, v in sorted(by.items(), key=lambda kv: -kv[1])},
    }


OPEN_TIMELINE = """() => {
  const api = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/'));
  const ms = Math.round;
  const at = (e) => e && {start: ms(e.startTime), first_byte: ms(e.responseStart),
    end: ms(e.responseEnd), wire: e.encodedBodySize, json: e.decodedBodySize};
  const shots = api.filter((e) => /snapshots/.test(e.name));
  return {
    history: at(api.find((e) => /metrics/.test(e.name))),
    experiment: at(api.find((e) => /experiments\\/\\d+$/.test(e.name))),
    snapshots: shots.length && {count: shots.length,
      start: ms(Math.min(...shots.map((e) => e.startTime))),
      end: ms(Math.max(...shots.map((e) => e.responseEnd)))},
  };
}"""
# When plotly.js had been run (the page's own code waits for it): a floor under (c) that no
# answer and no drawing of ours can lower.
PLOTLY_PROBE = """
(function wait() {
  if (window.Plotly) window.__plotlyReady = performance.now();
  else setTimeout(wait, 2);
})();
"""
# Every run's every epoch is in the model and on the loss chart, nothing left to draw there.
SHOWN = "() => window.reglabProbe.shown && window.reglabProbe.shown() && performance.now()"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _submit(url: str, s: Scenario) -> dict[str, Any]:
    # Submitted without a name: "bench" stays free for the bench's page to claim (a name's first
    # use binds it to whoever used it, and the page would then be refused it).
    headers: dict[str, str] = {}
    response = httpx.post(f"{url}/api/experiments", json=body(s), headers=headers, timeout=30)
    response.raise_for_status()
    created: dict[str, Any] = response.json()
    return created


def _open(browser: Browser, url: str, s: Scenario) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.add_init_script("localStorage.setItem('reglab.user', 'bench')")
    # The page reports its state and draw counts only to a probe injected before it loads.
    page.add_init_script("window.reglabProbe = {}")
    if s.throttle != 1:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": s.throttle})
    return page


ROLES = ("renderer", "chromium", "server", "workers")


def _cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far (Linux's /proc) by the page's renderer processes, the rest of
    Chromium, the server and its training workers (its child processes)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = dict.fromkeys(ROLES, 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (name) ": state, ppid, …
        if int(entry.name) == server_pid:
            role = "server"
        elif int(fields[1]) == server_pid:
            role = "workers"
        elif b"chromium" in cmd:
            role = "renderer" if b"--type=renderer" in cmd else "chromium"
        else:
            continue
        used[role] += (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    return used


def stream(browser: Browser, url: str, s: Scenario, server_pid: int) -> dict[str, Any]:
    """Frame time and event → drawn while the scenario's comparison streams into the page."""
    page = _open(browser, url, s)
    page.add_init_script(FRAME_PROBE)
    page.goto(url)
    page.wait_for_selector(".lesson-card, .cards")
    # The page is loaded before the comparison starts, so it sees it from its first epoch (a
    # 30-member group of tiny nets can finish in seconds); only the hash changes.
    created = _submit(url, s)
    started = time.monotonic()
    cpu_before = _cpu_seconds(server_pid)
    page.goto(f"{url}/#/experiments/{created['id']}")
    # A student watching the loss chart: on screen whatever the table above it holds.
    page.locator("[data-chart=loss]").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelector('.conn')?.textContent === 'finished'", timeout=900_000
    )
    elapsed = time.monotonic() - started
    cpu_after = _cpu_seconds(server_pid)
    stats = page.evaluate(STATS)
    page.close()
    frames, lat = stats["frames"] or [float("nan")], stats["latencies"] or [float("nan")]
    return {
        "runs": len(created["runs"]),
        "epochs_drawn": stats["epochs"],
        "seconds": round(elapsed, 1),
        "epoch_events_per_s": round(stats["epochs"] / elapsed, 1),
        "frames": len(frames),
        "frame_ms_p50": round(statistics.median(frames), 1),
        "frame_ms_p95": round(_pct(frames, 0.95), 1),
        "frame_ms_max": round(max(frames), 1),
        "draw_ms_p50": round(statistics.median(lat), 1),
        "draw_ms_p95": round(_pct(lat, 0.95), 1),
        "draw_ms_max": round(max(lat), 1),
        # The page's own work per frame (model → charts hand-over and draws), apart from the
        # browser's: when frames are long but this is short, the time went elsewhere.
        "page_work_ms_p50": round(statistics.median(stats["workMs"] or [0]), 1),
        "page_work_ms_p95": round(_pct(stats["workMs"] or [], 0.95), 1),
        "ws_messages": stats["ws"]["messages"],
        "epochs_per_ws_message": round(stats["epochs"] / max(1, stats["ws"]["messages"]), 1),
        "long_frames": _loaf(stats["loaf"], elapsed),
        "extend_calls": stats["extends"],
        "chart_builds": stats["newPlots"],
        "flush_ms_p50": {k: round(statistics.median(v), 1) for k, v in stats["flushMs"].items()},
        "flush_ms_max": {k: round(max(v), 1) for k, v in stats["flushMs"].items()},
        # The line charts' Plotly syncs by chart and reason (timed, off-axis, pointer, quiet, …).
        "syncs": stats["syncs"],
        # Cores each part kept busy while the page streamed, of the machine's: the server and its
        # workers train beside the browser here, and with the CPU throttled Chromium's renderer
        # spins in a signal handler for three quarters of its main thread's time, working or not.
        "cores_busy": {
            role: round((cpu_after[role] - cpu_before[role]) / elapsed, 2) for role in ROLES
        },
        "cores": os.cpu_count(),
    }


IDLE_PROBE = """
window.__frames = [];
window.__on = false;
(function tick(prev) {
  requestAnimationFrame((now) => {
    if (prev && window.__on) window.__frames.push(now - prev);
    tick(now);
  });
})();
"""


def idle(browser: Browser, url: str, s: Scenario) -> dict[str, Any]:
    """A control: frame gaps of a page that does nothing (the lessons page, no stream open) while
    the scenario's comparison trains. What it misses is what the machine gave no renderer."""
    page = _open(browser, url, s)
    page.add_init_script(IDLE_PROBE)
    page.goto(url)
    page.wait_for_selector(".lesson-card, .cards")
    created = _submit(url, s)
    page.evaluate("window.__on = true")
    started = time.monotonic()
    while time.monotonic() - started < 900:
        runs = httpx.get(f"{url}/api/experiments/{created['id']}", timeout=30).json()["runs"]
        if all(r["summary"] for r in runs):
            break
        time.sleep(0.5)
    frames = page.evaluate("window.__frames") or [float("nan")]
    page.close()
    return {
        "seconds": round(time.monotonic() - started, 1),
        "frames": len(frames),
        "frame_ms_p50": round(statistics.median(frames), 1),
        "frame_ms_p95": round(_pct(frames, 0.95), 1),
        "frame_ms_max": round(max(frames), 1),
    }


def reopen(browser: Browser, url: str, s: Scenario) -> dict[str, Any]:
    """Time from navigation to every epoch of a finished experiment drawn on the loss chart."""
    created = _submit(url, s)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        runs = httpx.get(f"{url}/api/experiments/{created['id']}", timeout=30).json()["runs"]
        if all(r["summary"] for r in runs):
            break
        time.sleep(1)
    times = []
    requests = []
    for _ in range(3):  # the first open also warms the browser's caches; report the median
        page = _open(browser, url, s)
        page.add_init_script(PLOTLY_PROBE)
        page.goto(f"{url}/#/experiments/{created['id']}")
        shown = page.wait_for_function(SHOWN, timeout=120_000, polling="raf").json_value()
        times.append(shown)
        requests.append(
            {**page.evaluate(OPEN_TIMELINE), "plotly_run": round(page.evaluate("__plotlyReady"))}
        )
        page.close()
    return {
        "runs": len(created["runs"]),
        "epochs_per_run": s.epochs,
        "open_ms": round(statistics.median(times)),
        "open_ms_each": [round(t) for t in times],
        # Each open's requests (ms after navigation: started, first byte, ended; bytes on the
        # wire and as JSON): the history, the experiment read after it, the pictured runs'
        # snapshots; and when plotly.js had been run. The first open builds the history, the
        # others get the server's copy of it (the experiment is finished).
        "timeline": requests,
    }


def _median_of(tries: int, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """One measurement, or with several tries the one with the median frame p95, with every
    try's frame and event → drawn p95, its long frames and the load when it ended."""
    if tries == 1:
        return measure()
    runs = []
    for _ in range(tries):
        run = measure()
        run["load_avg_end"] = round(os.getloadavg()[0], 2)
        runs.append(run)
    middle = sorted(runs, key=lambda r: r["frame_ms_p95"])[tries // 2]
    keep = ("frame_ms_p95", "draw_ms_p95", "frames", "load_avg_end", "cores_busy")
    each = [{k: r[k] for k in keep} | {"long_frames": r["long_frames"]["count"]} for r in runs]
    return {**middle, "tries": each}


def _verdict(label: str, value: float, target: float | None) -> str:
    if target is None:
        return f"  {label} {value} ms\n"
    return f"  {label} {value} ms (target < {target}): {'ok' if value < target else 'MISSED'}\n"


def main() -> None:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium is missing at {CHROMIUM}: install Debian's chromium.")
    only = os.environ.get("BENCH_BROWSER_ONLY", "")  # e.g. "a,c": a subset of the scenarios
    results: list[tuple[Scenario, dict[str, Any]]] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        reglab_serve(Path(tmp)) as server,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for s in scenarios():
            key = "today" if s.name.startswith("today") else s.name[1]
            if only and key not in only.split(","):
                continue
            load = os.getloadavg()
            pid = server.process.pid if server.process else -1
            measure: Callable[[], dict[str, Any]] = (
                functools.partial(idle, browser, server.url, s)
                if s.idle
                else functools.partial(reopen, browser, server.url, s)
                if s.open_ms
                else functools.partial(stream, browser, server.url, s, pid)
            )
            result = _median_of(s.tries, measure)
            result["load_avg_before"] = [round(x, 2) for x in load]
            result["load_avg_after"] = [round(x, 2) for x in os.getloadavg()]
            print(f"-- {s.name}\n{json.dumps(result, indent=2)}", flush=True)
            results.append((s, result))
        browser.close()
    print("browser bench summary")
    for s, r in results:
        print(f"{s.name} (load average {r['load_avg_before'][0]}):")
        if s.open_ms:
            print(_verdict("time to first full draw", r["open_ms"], s.open_ms), end="")
            continue
        print(_verdict("frame time p95", r["frame_ms_p95"], s.frame_p95_ms), end="")
        if not s.idle:
            print(_verdict("event → drawn p95", r["draw_ms_p95"], s.draw_p95_ms), end="")
        if "cores_busy" in r:
            busy = ", ".join(f"{role} {n}" for role, n in r["cores_busy"].items())
            print(f"  cores busy (of {r['cores']}): {busy}")
        if "tries" in r:
            each = ", ".join(f"{t['frame_ms_p95']} / {t['draw_ms_p95']}" for t in r["tries"])
            print(f"  median stream of {len(r['tries'])}; each, frame / drawn p95 (ms): {each}")


if __name__ == "__main__":
    main()
