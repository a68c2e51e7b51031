// The teacher's class page: sign in, every student's work, the queue and workers, flagged runs,
// polls to open, and the actions; it refreshes itself every few seconds while it is shown.

import { api, exportUrl, pageUrl } from "../api.js";
import { clear, h } from "../dom.js";
import { t, tOr } from "../i18n.js";
import { challengeStatusText } from "./challenge-plots.js";
import { pollStateText, questionText } from "./poll-text.js";
import { runMessage } from "./run-message.js";
import { statusText } from "./summary.js";

// How often the page asks again (ms): a teacher glancing at it sees a change within seconds, and
// 40 open pages cost the server one small query each this often.
export const REFRESH_MS = 3000;

/** Until the route is left: the lead's ctx.signal where it exists, and this view's own hash. */
export function aliveWhile(ctx) {
  const hash = location.hash;
  let stopped = false;
  return {
    alive: () => !stopped && !ctx.signal?.aborted && location.hash === hash,
    stop: () => {
      stopped = true;
    },
  };
}

function when(iso) {
  if (!iso) return "—";
  const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return t("class.justNow");
  if (seconds < 3600) return t("class.minAgo", { n: Math.floor(seconds / 60) });
  return new Date(iso).toLocaleString();
}

function signInForm(root, ctx) {
  const input = h("input", { id: "admin-token", type: "password", autocomplete: "off", required: true, placeholder: "REGLAB_ADMIN_TOKEN" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h("form", { class: "panel sign-in", id: "sign-in" },
    h("h2", {}, t("class.signIn.title")),
    h("p", { class: "muted" }, t("class.signIn.lead")),
    h("label", { for: "admin-token" }, t("class.signIn.token")), input, error,
    h("div", { class: "dialog-actions" }, h("button", { type: "submit", class: "primary" }, t("class.signIn.submit"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value;
    input.value = ""; // not left in the page either way
    try {
      await api.signIn(token);
      ctx.setTeacher?.(true);
      ctx.navigate("#/class");
    } catch (err) {
      error.textContent = err.status === 403 ? t("class.signIn.wrong") : err.message;
      error.hidden = false;
    }
  });
  root.append(h("section", { class: "intro" }, h("h1", {}, t("nav.class"))), form);
}

function pollForm(lessons, ctx) {
  const lesson = h("select", { id: "poll-lesson" }, lessons.map((l) => h("option", { value: l.name }, tOr(`lesson.${l.name}.title`, l.title))));
  const question = h("select", { id: "poll-question" });
  // The two questions any lesson's runs answer, then one per claim the chosen lesson states.
  const questions = () => {
    const chosen = lessons.find((l) => l.name === lesson.value);
    const claims = chosen?.spec?.claims || [];
    question.replaceChildren(
      h("option", { value: "lowest-final-val-loss" }, t("poll.q.lowest-final-val-loss")),
      h("option", { value: "most-zero-weights" }, t("poll.q.most-zero-weights")),
      claims.map((english, i) => {
        const c = tOr(`lesson.${chosen.name}.claim.${i}`, english);
        return h("option", { value: `claim:${i + 1}` }, t("class.poll.claimOption", { n: i + 1, claim: c.length > 70 ? `${c.slice(0, 70)}…` : c }));
      }));
  };
  questions();
  lesson.addEventListener("change", questions);
  const epochs = h("input", { id: "poll-epochs", type: "number", min: 1, max: 2000, placeholder: t("class.poll.default") });
  const seeds = h("input", { id: "poll-seeds", type: "number", min: 3, max: 10, placeholder: t("class.poll.default") });
  const form = h("form", { class: "panel poll-form", id: "poll-form" },
    h("h2", {}, t("class.poll.title")),
    h("p", { class: "muted" }, t("class.poll.lead")),
    h("div", { class: "filters" },
      h("label", { for: "poll-lesson" }, t("class.poll.lesson")), lesson,
      h("label", { for: "poll-question" }, t("class.poll.question")), question,
      h("label", { for: "poll-epochs" }, t("class.poll.epochs")), epochs,
      h("label", { for: "poll-seeds" }, t("class.poll.seeds")), seeds,
      h("button", { type: "submit", class: "primary" }, t("class.poll.open"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { lesson: lesson.value, question: question.value };
    if (epochs.value) body.epochs = Number(epochs.value);
    if (seeds.value) body.repeats = Number(seeds.value);
    try {
      const poll = await api.openPoll(body);
      ctx.navigate(`#/polls/${poll.id}`);
    } catch (err) {
      const detail = Array.isArray(err.detail) ? err.detail.map((d) => `${d.field}: ${d.msg}`).join("; ") : err.message;
      ctx.toast(t("class.poll.error", { error: detail }), "error");
    }
  });
  return form;
}

function studentRows(data, ctx, refresh) {
  return data.students.map((s) => {
    const cancel = h("button", { type: "button", class: "ghost small", "data-cancel-student": s.name, disabled: !(s.queued + s.running) }, t("class.student.cancel"));
    cancel.addEventListener("click", async () => {
      if (!window.confirm(t("class.student.cancelConfirm", { name: s.name }))) return;
      try {
        const page = await api.listExperiments({ owner: s.name, limit: 200 });
        const open = page.items.filter((e) => e.status !== "finished");
        await Promise.all(open.map((e) => api.cancelExperiment(e.id)));
        ctx.toast(t("class.student.cancelled", { name: s.name, n: open.length }));
      } catch (err) {
        ctx.toast(t("class.student.cancelError", { error: err.message }), "error");
      }
      refresh();
    });
    const free = h("button", { type: "button", class: "ghost small danger", "data-free": s.name }, t("class.student.free"));
    free.addEventListener("click", async () => {
      if (!window.confirm(t("class.student.freeConfirm", { name: s.name }))) return;
      try {
        await api.resetName(s.name);
        ctx.toast(t("class.student.freed", { name: s.name }));
      } catch (err) {
        ctx.toast(t("class.student.freeError", { name: s.name, error: err.message }), "error");
      }
      refresh();
    });
    return h("tr", { "data-student": s.name },
      h("td", { "data-col": "name" }, h("a", { href: `#/history?owner=${encodeURIComponent(s.name)}` }, s.name)),
      h("td", { class: "num" }, String(s.experiments)),
      h("td", { class: "num" }, String(s.entries)),
      h("td", { class: "num" }, String(s.queued)),
      h("td", { class: "num" }, String(s.running)),
      h("td", { class: "num" }, s.failed ? h("span", { class: "badge status-failed" }, String(s.failed)) : "0"),
      h("td", {}, when(s.last_seen)),
      h("td", { class: "actions" }, cancel, free));
  });
}

function table(headers, rows, empty, attrs = {}) {
  if (!rows.length) return h("p", { class: "muted" }, empty);
  return h("table", attrs, h("thead", {}, h("tr", {}, headers.map((text) => h("th", { scope: "col" }, text)))), h("tbody", {}, rows));
}

function groupRows(groups) {
  return groups.map((g) => h("tr", {},
    h("td", {}, g.owners.join(t("list.sep"))),
    h("td", {}, g.experiments.map((id, i) => [i ? ", " : "", h("a", { href: `#/experiments/${id}` }, `#${id}`)])),
    h("td", {}, t("class.group.runs", { n: g.runs.length, names: `${g.runs.slice(0, 4).join(t("list.sep"))}${g.runs.length > 4 ? "…" : ""}` })),
    h("td", { class: "num" }, g.seconds === null ? t("class.group.waiting") : `${g.seconds.toFixed(0)} s`)));
}

/** The challenges, each with the teacher's next step: close its entries, then reveal its board. */
function challengeRows(data, ctx, refresh) {
  // `action` names the button for tests and scripts (Close-3, Reveal-3) in every language.
  const act = (action, label, c, call) => {
    const b = h("button", { type: "button", class: "ghost small", "data-challenge-action": `${action}-${c.id}` }, label);
    b.addEventListener("click", async () => {
      try {
        await call(c.id);
      } catch (err) {
        ctx.toast(t("class.challenge.error", { action: label.toLowerCase(), title: c.title, error: err.message }), "error");
      }
      refresh();
    });
    return b;
  };
  return data.challenges.map((c) => h("tr", { "data-challenge": c.id },
    h("td", {}, h("a", { href: pageUrl.challenge(c.id) }, c.title)),
    h("td", {}, h("span", { class: `badge status-${c.status}`, "data-status": c.status }, challengeStatusText(c.status))),
    h("td", { class: "actions" },
      c.status === "open" ? act("Close", t("class.challenge.close"), c, api.closeChallenge) : null,
      c.status !== "revealed" ? act("Reveal", t("class.challenge.reveal"), c, api.revealChallenge) : null)));
}

function fill(body, data, polls, ctx, refresh) {
  clear(body);
  const flagged = data.flagged.map((f) => h("tr", { "data-flagged": f.run_id },
    h("td", {}, f.owner),
    h("td", {}, h("a", { href: `#/experiments/${f.experiment_id}` }, f.run)),
    h("td", {}, h("span", { class: `badge status-${f.status}`, "data-kind": f.kind }, f.kind === "time limit" ? t("class.flagged.timeLimit") : statusText(f.kind))),
    h("td", { class: "reason" }, runMessage(f.reason))));
  const pollRows = polls.map((p) => h("tr", {},
    h("td", {}, h("a", { href: `#/polls/${p.id}` }, t("class.polls.name", { id: p.id }))),
    h("td", {}, t("class.polls.question", { lesson: p.lesson, question: questionText(p) })),
    h("td", {}, h("span", { class: "badge", "data-state": p.state }, pollStateText(p.state))),
    h("td", { class: "num" }, t("class.polls.answers", { n: p.answers }))));
  body.append(
    h("h2", {}, t("class.students", { n: data.students.length })),
    h("div", { class: "panel table-panel" }, table([t("class.col.name"), t("class.col.experiments"), t("class.col.entries"), t("class.col.queued"), t("class.col.running"), t("class.col.failed"), t("class.col.lastSeen"), ""],
      studentRows(data, ctx, refresh), t("class.students.none"), { id: "students" })),
    h("h2", {}, t("class.workers", { n: data.workers.length, slots: data.slots })),
    h("div", { class: "panel table-panel" }, table([t("class.col.for"), t("class.col.experiments"), t("class.col.training"), t("class.col.trainedFor")], groupRows(data.workers), t("class.workers.none"), { id: "workers" })),
    h("h2", {}, t("class.queue", { n: data.queue.length })),
    h("div", { class: "panel table-panel" }, table([t("class.col.for"), t("class.col.experiments"), t("class.col.runs"), ""], groupRows(data.queue), t("class.queue.none"), { id: "queue" })),
    h("h2", {}, t("class.flagged", { n: data.flagged.length })),
    h("div", { class: "panel table-panel" }, table([t("class.col.student"), t("class.col.run"), t("class.col.status"), t("class.col.reason")], flagged, t("class.flagged.none"), { id: "flagged" })),
    h("h2", {}, t("nav.challenges")),
    h("div", { class: "panel table-panel" }, table([t("class.col.challenge"), t("class.col.status"), ""], challengeRows(data, ctx, refresh), t("class.challenges.none"), { id: "challenges" })),
    h("h2", {}, t("class.polls")),
    h("div", { class: "panel table-panel" }, table([t("class.col.poll"), t("class.col.question"), t("class.col.state"), t("class.col.answers")], pollRows, t("class.polls.none"), { id: "polls" })));
}

export async function render(root, ctx) {
  const { alive, stop } = aliveWhile(ctx);
  const session = await api.session();
  if (!alive()) return null;
  ctx.setTeacher?.(session.teacher);
  if (!session.teacher) {
    signInForm(root, ctx);
    return stop;
  }
  const lessons = await ctx.loadLessons();
  if (!alive()) return null;
  const body = h("div", { id: "class-body" }, h("p", { class: "muted" }, t("app.loading")));
  const stopAll = h("button", { type: "button", class: "ghost danger", id: "class-cancel-all" }, t("class.cancelAll"));
  const signOut = h("button", { type: "button", class: "ghost", id: "sign-out" }, t("class.signOut"));
  root.append(
    h("section", { class: "intro exp-head" },
      h("div", {}, h("h1", {}, t("nav.class")), h("p", { class: "lead" }, t("class.lead"))),
      h("div", { class: "exp-actions" },
        h("a", { class: "button ghost", href: exportUrl.classCsv(), download: "", id: "class-csv" }, t("class.csv")),
        stopAll, signOut)),
    pollForm(lessons, ctx),
    body);

  let timer = null;
  const refresh = async () => {
    clearTimeout(timer);
    try {
      const [data, polls] = await Promise.all([api.classroom(ctx.signal), api.polls(ctx.signal)]);
      if (!alive()) return;
      fill(body, data, polls, ctx, refresh);
    } catch (err) {
      if (!alive()) return;
      if (err.status === 403) {
        ctx.setTeacher?.(false);
        ctx.navigate("#/class");
        return;
      }
      ctx.toast(t("class.refreshError", { error: err.message }), "error");
    }
    if (alive()) timer = setTimeout(refresh, REFRESH_MS);
  };
  stopAll.addEventListener("click", async () => {
    if (!window.confirm(t("class.cancelAllConfirm"))) return;
    try {
      const done = await api.cancelEverything();
      ctx.toast(t("class.cancelledAll", { n: done.cancelled.length }));
    } catch (err) {
      ctx.toast(t("class.cancelAllError", { error: err.message }), "error");
    }
    refresh();
  });
  signOut.addEventListener("click", async () => {
    await api.signOut();
    ctx.setTeacher?.(false);
    ctx.navigate("#/class");
  });
  const halt = () => {
    stop();
    clearTimeout(timer);
  };
  ctx.signal?.addEventListener("abort", halt);
  await refresh();
  return halt;
}
