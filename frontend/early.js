// Loaded before Plotly (a classic script, so it runs before the 1.26 MB plotly.min.js is run):
// the page's language catalog, and when the page opens on an experiment, its history request and
// then the experiment's own start now, while the browser parses Plotly and the page's modules,
// instead of after them. api.js takes these answers once (api.history, api.experiment); a failure
// there is retried the ordinary way, so errors show as they always did.

/**
 * The catalog for the browser's languages: the first of them reglab speaks. Traditional Chinese
 * for zh-TW, zh-HK, zh-MO and zh-Hant*; Simplified for zh-CN, zh-SG, zh-Hans* and plain zh; else
 * English. i18n.js reads the choice (and the remembered one) from here: one rule, one place.
 */
function reglabChooseLanguage(languages) {
  for (const raw of languages || []) {
    const tag = String(raw).toLowerCase();
    if (tag === "en" || tag.startsWith("en-")) return "en";
    if (/^zh-(hant|tw|hk|mo)(-|$)/.test(tag)) return "zh-TW";
    if (tag === "zh" || /^zh-(hans|cn|sg|my)(-|$)/.test(tag)) return "zh-CN";
  }
  return "en";
}

(function language() {
  const spoken = ["en", "zh-TW", "zh-CN"];
  let remembered = null;
  try {
    remembered = localStorage.getItem("reglab.lang");
  } catch {
    remembered = null; // storage blocked: the browser's languages decide
  }
  const lang = spoken.includes(remembered) ? remembered : reglabChooseLanguage(navigator.languages || [navigator.language]);
  // The catalog is fetched now, beside Plotly: the page's first words wait for it.
  const catalog = fetch(`i18n/${lang}.json`).then((res) => (res.ok ? res.json() : null)).catch(() => null);
  window.reglabLanguage = { lang, catalog };
})();

(function early() {
  const get = (path) => fetch(path, { headers: { Accept: "application/json" } });
  const json = (answer) => answer.then((res) => (res.ok ? res.json() : null)).catch(() => null);
  // The run statuses, which every page reads before its first view (it came 20-45 ms after
  // Plotly had run when asked for then).
  window.reglabEarly = { "/api/statuses": json(get("/api/statuses")) };
  const found = /^#\/experiments\/(\d+)(?:$|[/?])/.exec(location.hash);
  if (!found) return;
  const base = `/api/experiments/${found[1]}`;
  const answer = get(`${base}/metrics?compact=true`);
  const history = json(answer);
  // Read after the history, as the page would: a status logged before its cursor is in it. Its
  // headers are enough (the server built the whole answer before sending them), and come before
  // its 6 MB are in and parsed, which waited for Plotly to have run.
  const experiment = answer.then((res) => (res.ok ? json(get(base)) : null)).catch(() => null);
  window.reglabEarly[`${base}/metrics?compact=true`] = history;
  window.reglabEarly[base] = experiment;
})();
