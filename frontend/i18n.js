// The page's words: t(key, values) reads the chosen language's catalog (frontend/i18n/<lang>.json).

// The languages reglab speaks, each named in itself (a student looks for their own language's name).
export const LANGUAGES = { en: "English", "zh-TW": "繁體中文", "zh-CN": "简体中文" };
const STORAGE_KEY = "reglab.lang";

let current = "en";
let catalog = {};
let numbers = new Intl.NumberFormat("en");

/** The language now shown ("en", "zh-TW" or "zh-CN"). */
export const language = () => current;

/**
 * Fills `{name}` in `text` from `values`; numbers are written the language's way (Intl). A name
 * with no value is left as it is, so a missing value shows rather than vanishes.
 */
export function interpolate(text, values = {}, format = (n) => numbers.format(n)) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!(name in values)) return whole;
    const v = values[name];
    return typeof v === "number" ? format(v) : String(v);
  });
}

/** The sentence `key` names in the current language; the key itself when a catalog lacks it. */
export function t(key, values) {
  const text = catalog[key];
  if (text === undefined) {
    console.warn(`reglab: no "${key}" in the ${current} catalog`);
    return key;
  }
  return interpolate(text, values);
}

/**
 * Text the API gives in English (a lesson's title and claims, the schema's help): the catalog's
 * translation when it has one, else the API's own words.
 */
export function tOr(key, english, values) {
  return catalog[key] === undefined ? english : interpolate(catalog[key], values);
}

/** Marks a key that a table holds and t() reads later, so the catalog test finds it. */
export const msg = (key) => key;

async function fetchCatalog(lang) {
  const res = await fetch(`i18n/${lang}.json`);
  if (!res.ok) throw new Error(`the ${lang} catalog did not load (HTTP ${res.status})`);
  return res.json();
}

/**
 * Shows the page in `lang` from now on: loads its catalog, sets <html lang> (the browser picks
 * the script's glyphs and fonts by it) and, when `remember`, keeps the choice for this browser.
 * The first call takes the catalog early.js fetched beside Plotly.
 */
export async function useLanguage(lang, { remember = false } = {}) {
  if (!(lang in LANGUAGES)) lang = "en";
  const early = window.reglabLanguage;
  const loaded = early && early.lang === lang ? await early.catalog : null;
  if (early) window.reglabLanguage = null; // taken once; a later switch fetches
  catalog = loaded || (await fetchCatalog(lang));
  current = lang;
  numbers = new Intl.NumberFormat(lang);
  document.documentElement.lang = lang;
  if (remember) {
    try {
      localStorage.setItem(STORAGE_KEY, lang);
    } catch {
      // storage blocked: the choice lasts until the tab closes
    }
  }
}

/** The language early.js chose (the remembered one, else the browser's). */
export const initialLanguage = () => window.reglabLanguage?.lang || "en";

/** Writes the static page's words (index.html's data-i18n, data-i18n-title, data-i18n-placeholder). */
export function translateStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-label]")) el.setAttribute("aria-label", t(el.dataset.i18nLabel));
}
