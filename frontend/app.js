// The page's one state object and its router: views read and write `state`, nothing else is global.

import { api, ApiError, currentUser, setUser } from "./api.js";
import { drawStats, setChartLanguage } from "./charts.js";
import { clear, h } from "./dom.js";
import { LANGUAGES, initialLanguage, language, t, translateStatic, useLanguage } from "./i18n.js";
import { report } from "./probe.js";
import { setStatuses } from "./statuses.js";
import * as lessonsView from "./views/lessons.js";
import * as formView from "./views/form.js";
import * as experimentView from "./views/experiment.js";
import * as historyView from "./views/history.js";
import * as challengesView from "./views/challenges.js";
import * as challengeView from "./views/challenge.js";
import * as classView from "./views/class.js";
import * as pollView from "./views/poll.js";

export const state = {
  user: currentUser(),
  largeType: localStorage.getItem("reglab.largeType") === "1",
  projector: localStorage.getItem("reglab.projector") === "1", // full screen, large type, no forms
  teacher: false, // signed in as the teacher (the server says so: its cookie is HttpOnly)
  lessons: null, // [{name, title, description, spec}] once loaded
  schema: null, // RunSpec JSON schema once loaded
  statuses: null, // {statuses, final}: the run statuses, as the API lists them
  metrics: null, // {metrics: [{name, meaning, per_layer, optional}]}: the per-epoch metrics the API declares
  route: { view: "lessons", id: null, params: new URLSearchParams() },
  experiment: null, // the live view's model: {id, meta, runs: Map, cursor, connection}
  formDraft: null, // the setup handed from "clone" or a lesson to the form
};

// Tests and the browser bench read the page's state and measurements through a probe they inject.
report("state", state);
report("drawStats", drawStats);

const VIEWS = {
  lessons: lessonsView,
  new: formView,
  experiment: experimentView,
  history: historyView,
  challenges: challengesView,
  challenge: challengeView,
  class: classView,
  poll: pollView,
};
const main = document.getElementById("main");
let teardown = null;
let visit = null; // the shown route's AbortController: aborted the moment the route is left

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, search = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean);
  const params = new URLSearchParams(search);
  if (parts[0] === "experiments" && parts[1]) return { view: "experiment", id: parts[1], params };
  if (parts[0] === "new") return { view: "new", id: null, params };
  if (parts[0] === "history") return { view: "history", id: null, params };
  if (parts[0] === "challenges" && parts[1]) return { view: "challenge", id: parts[1], params };
  if (parts[0] === "challenges") return { view: "challenges", id: null, params };
  if (parts[0] === "class") return { view: "class", id: null, params };
  if (parts[0] === "polls" && parts[1]) return { view: "poll", id: parts[1], params };
  return { view: "lessons", id: null, params };
}

export function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

export function toast(message, kind = "info") {
  const box = document.getElementById("toasts");
  const el = h("div", { class: `toast ${kind}` }, message);
  box.appendChild(el);
  setTimeout(() => el.remove(), kind === "error" ? 8000 : 4000);
}

/** The Class link shows once this browser is signed in as the teacher. */
function setTeacher(teacher) {
  state.teacher = Boolean(teacher);
  document.getElementById("nav-class").hidden = !state.teacher;
}

const ctx = { state, navigate, toast, ensureUser, loadLessons, loadSchema, loadStatuses, loadMetrics, setTeacher };

async function route() {
  if (teardown) teardown();
  teardown = null;
  visit?.abort();
  const here = new AbortController();
  visit = here;
  state.route = parseHash();
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.classList.toggle("active", a.dataset.nav === state.route.view);
    if (a.dataset.nav === state.route.view) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  // Each visit draws into an element of its own and reads its own route, and its views stop after
  // every await once `signal` is aborted: on a slow laptop a view may finish loading after the
  // student has moved on, and must then neither draw on the new page nor rewrite its URL.
  const root = h("div", { class: "view" });
  main.replaceChildren(root);
  const visitCtx = { ...ctx, route: state.route, signal: here.signal };
  try {
    const stop = (await VIEWS[state.route.view].render(root, visitCtx)) || null;
    if (here.signal.aborted) stop?.(); // left while it loaded: undo whatever it started
    else teardown = stop;
  } catch (err) {
    if (here.signal.aborted) return;
    console.error(err);
    clear(root).appendChild(h("div", { class: "panel error-panel" }, h("h2", {}, t("app.error.title")), h("p", {}, err.message || String(err))));
  }
}

export async function loadLessons() {
  if (!state.lessons) state.lessons = await api.lessons();
  return state.lessons;
}

/** The run statuses and which are final come from the API once (GET /api/statuses), never from a copy here. */
export async function loadStatuses() {
  if (!state.statuses) {
    state.statuses = await api.statuses();
    setStatuses(state.statuses);
  }
  return state.statuses;
}

/** The per-epoch metrics as the API declares them (GET /api/metrics), asked once. */
export async function loadMetrics() {
  if (!state.metrics) state.metrics = await api.declaredMetrics();
  return state.metrics;
}

export async function loadSchema() {
  if (!state.schema) state.schema = await api.runSpecSchema();
  return state.schema;
}

/** Resolves once the user has a name bound to this browser (asks with the dialog the first time). */
export function ensureUser(why = "") {
  if (state.user) return Promise.resolve(state.user);
  const dialog = document.getElementById("name-dialog");
  const input = document.getElementById("name-input");
  const error = document.getElementById("name-error");
  const explain = (text) => {
    error.textContent = text;
    error.hidden = !text;
  };
  explain(why);
  return new Promise((resolve) => {
    const done = async () => {
      const name = input.value.trim();
      if (!name) {
        dialog.showModal();
        return;
      }
      try {
        await api.claimName(name); // the server binds the name to this browser, or says it is taken
      } catch (err) {
        explain(err.message);
        dialog.showModal();
        return;
      }
      explain("");
      setUser(name);
      state.user = name;
      showUser();
      dialog.removeEventListener("close", done);
      resolve(name);
    };
    dialog.addEventListener("close", done);
    input.value = state.user || currentUser();
    if (!dialog.open) dialog.showModal();
  });
}

/** A name remembered from an earlier visit must still be this browser's (a teacher may reset it). */
async function confirmUser() {
  try {
    await api.claimName(state.user);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 409) return; // offline or a server hiccup: ask later
    state.user = "";
    showUser();
    ensureUser(err.message);
  }
}

function showUser() {
  document.getElementById("user-name").textContent = state.user ? state.user : t("app.user.unset");
}

function applyLargeType() {
  document.documentElement.classList.toggle("large-type", state.largeType);
  const button = document.getElementById("large-type");
  button.setAttribute("aria-pressed", String(state.largeType));
}

document.getElementById("large-type").addEventListener("click", () => {
  state.largeType = !state.largeType;
  localStorage.setItem("reglab.largeType", state.largeType ? "1" : "0");
  applyLargeType();
  route(); // charts pick their font size when drawn; the live view rebuilds from state without refetching
});
// Projector mode builds on large type: navigation and forms hidden, text and lines larger still.
function applyProjector() {
  document.documentElement.classList.toggle("projector", state.projector);
  document.getElementById("projector").setAttribute("aria-pressed", String(state.projector));
}

document.getElementById("projector").addEventListener("click", () => {
  state.projector = !state.projector;
  localStorage.setItem("reglab.projector", state.projector ? "1" : "0");
  // Full screen too where the browser allows it (this click is the gesture it asks for).
  if (state.projector) document.documentElement.requestFullscreen?.().catch(() => {});
  else if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  applyProjector();
  route(); // charts pick their font size and line width when drawn
});
document.getElementById("user-button").addEventListener("click", () => {
  state.user = "";
  ensureUser();
});

/** The header's language switch: the page redraws in the new language, its state and address kept. */
async function switchLanguage(lang) {
  try {
    await useLanguage(lang, { remember: true });
  } catch (err) {
    toast(err.message, "error"); // the page stays in the language it had
    showLanguage();
    return;
  }
  showLanguage();
  route(); // views draw from `state` and the address (the form's setup is in it): nothing is lost
}

function showLanguage() {
  setChartLanguage(language());
  translateStatic();
  showUser();
  const select = document.getElementById("language");
  if (!select.options.length) {
    for (const [code, name] of Object.entries(LANGUAGES)) select.appendChild(h("option", { value: code, lang: code }, name));
  }
  select.value = language();
}

document.getElementById("language").addEventListener("change", (e) => switchLanguage(e.target.value));

// The catalog comes before the first view: every word the page draws is read from it. Should the
// chosen one not load, English; should that fail too, the page shows its keys rather than nothing.
// The run statuses too (statuses.js): views name them as the API serves them. Should they not come,
// a view that needs them asks again (ctx.loadStatuses) and shows its error the ordinary way.
await Promise.all([
  useLanguage(initialLanguage()).catch(() => useLanguage("en")).catch((err) => console.error(err)),
  loadStatuses().catch(() => {}),
]);
showLanguage();
window.addEventListener("hashchange", route);
applyLargeType();
applyProjector();
showUser();
api.session().then((s) => setTeacher(s.teacher), () => {}); // offline: the link stays hidden
route();
if (!state.user) ensureUser();
else confirmUser();
