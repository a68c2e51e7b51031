// The page's one door for tests and the browser bench: they inject a probe before the page loads.
//
// A test (Playwright's add_init_script) sets `window.reglabProbe = {}`; the page then reports into
// it what the tests read: `state` (the one state object), `drawStats` (the scheduler's
// measurements), `stream` (the live view's socket), `shown()` (the live view fully drawn), `board`
// (the board the challenge page shows) and `charts` (element → its LiveChart). A page opened
// without a probe, every student's, exposes none of it.

const probe = globalThis.window?.reglabProbe ?? null;
if (probe) probe.charts = new WeakMap();

/** Hands `value` to the injected probe as `name`; nothing without one. */
export function report(name, value) {
  if (probe) probe[name] = value;
}

/** Tells the injected probe which chart draws into `el` (tests find a chart by its element). */
export function reportChart(el, chart) {
  if (probe) probe.charts.set(el, chart);
}
