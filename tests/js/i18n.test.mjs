// The page's language: chosen from the browser's languages or the remembered choice (early.js), and t()'s filling.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import vm from "node:vm";

import { interpolate } from "../../frontend/i18n.js";

const EARLY = readFileSync(new URL("../../frontend/early.js", import.meta.url), "utf8");

/** Runs early.js as the browser would (a classic script) and returns what it left on window. */
function boot({ languages = ["en-US"], remembered = null, hash = "" } = {}) {
  const fetched = [];
  const window = {};
  const context = {
    window,
    navigator: { languages, language: languages[0] },
    localStorage: { getItem: (key) => (key === "reglab.lang" ? remembered : null) },
    location: { hash },
    fetch: (url) => {
      fetched.push(url);
      return new Promise(() => {}); // never answers: only the request matters here
    },
  };
  vm.runInNewContext(EARLY, context);
  return { choose: context.reglabChooseLanguage, language: window.reglabLanguage, fetched };
}

test("traditional chinese tags choose the zh-TW catalog", () => {
  const { choose } = boot();
  for (const tag of ["zh-TW", "zh-HK", "zh-MO", "zh-Hant", "zh-Hant-TW", "zh-Hant-HK", "ZH-tw"]) assert.equal(choose([tag]), "zh-TW", tag);
});

test("simplified chinese tags and plain zh choose the zh-CN catalog", () => {
  const { choose } = boot();
  for (const tag of ["zh", "zh-CN", "zh-SG", "zh-Hans", "zh-Hans-CN", "zh-Hans-SG"]) assert.equal(choose([tag]), "zh-CN", tag);
});

test("english and every other language choose english", () => {
  const { choose } = boot();
  for (const tags of [["en-US"], ["en"], ["fr-FR"], ["ja-JP"], [], ["zhx"], ["zh_TW_typo-x"]]) assert.equal(choose(tags), "en", tags.join());
});

test("the first language reglab speaks in the browser's list wins", () => {
  const { choose } = boot();
  assert.equal(choose(["de-DE", "zh-TW", "en"]), "zh-TW");
  assert.equal(choose(["en-GB", "zh-CN"]), "en");
  assert.equal(choose(["ja", "zh-Hans-CN", "zh-TW"]), "zh-CN");
});

test("the page fetches the chosen catalog (and the run statuses) before plotly runs", () => {
  const { language, fetched } = boot({ languages: ["zh-HK", "en"] });
  assert.equal(language.lang, "zh-TW");
  assert.deepEqual(fetched, ["i18n/zh-TW.json", "/api/statuses"]);
});

test("a remembered choice wins over the browser's languages, an unknown one does not", () => {
  assert.equal(boot({ languages: ["zh-TW"], remembered: "en" }).language.lang, "en");
  assert.equal(boot({ languages: ["en-US"], remembered: "zh-CN" }).language.lang, "zh-CN");
  assert.equal(boot({ languages: ["zh-TW"], remembered: "klingon" }).language.lang, "zh-TW");
});

test("interpolate fills named values and leaves plotly's %{x} and unknown names alone", () => {
  assert.equal(interpolate("{n} of {total} seeds", { n: 2, total: 5 }), "2 of 5 seeds");
  assert.equal(interpolate("{name} at epoch %{x}", { name: "l2" }), "l2 at epoch %{x}");
  assert.equal(interpolate("{missing} stays", {}), "{missing} stays");
});

test("interpolate writes numbers the language's way", () => {
  const zh = new Intl.NumberFormat("zh-TW");
  assert.equal(interpolate("共 {n} 次", { n: 12345 }, (n) => zh.format(n)), `共 ${zh.format(12345)} 次`);
  assert.equal(interpolate("{n} runs", { n: 1234 }), "1,234 runs");
});
