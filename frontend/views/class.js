// The teacher's class page: sign in, every student's work, the queue and workers, flagged runs,
// polls to open, and the actions; it refreshes itself every few seconds while it is shown.

import { api, exportUrl, pageUrl } from "../api.js";
import { clear, h } from "../dom.js";

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
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return new Date(iso).toLocaleString();
}

function signInForm(root, ctx) {
  const input = h("input", { id: "admin-token", type: "password", autocomplete: "off", required: true, placeholder: "REGLAB_ADMIN_TOKEN" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h("form", { class: "panel sign-in", id: "sign-in" },
    h("h2", {}, "Teacher sign-in"),
    h("p", { class: "muted" }, "Type the server's admin token once: this browser then stays signed in (an HttpOnly cookie); the page keeps no copy of the token."),
    h("label", { for: "admin-token" }, "Admin token"), input, error,
    h("div", { class: "dialog-actions" }, h("button", { type: "submit", class: "primary" }, "Sign in")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = input.value;
    input.value = ""; // not left in the page either way
    try {
      await api.signIn(token);
      ctx.setTeacher?.(true);
      ctx.navigate("#/class");
    } catch (err) {
      error.textContent = err.status === 403 ? "That is not this server's admin token." : err.message;
      error.hidden = false;
    }
  });
  root.append(h("section", { class: "intro" }, h("h1", {}, "Class")), form);
}

function pollForm(lessons, ctx) {
  const lesson = h("select", { id: "poll-lesson" }, lessons.map((l) => h("option", { value: l.name }, l.title)));
  const question = h("select", { id: "poll-question" });
  // The two questions any lesson's runs answer, then one per claim the chosen lesson states.
  const questions = () => {
    const chosen = lessons.find((l) => l.name === lesson.value);
    const claims = chosen?.spec?.claims || [];
    question.replaceChildren(
      h("option", { value: "lowest-final-val-loss" }, "Which variant ends with the lowest validation loss?"),
      h("option", { value: "most-zero-weights" }, "Which variant ends with the most weights at exactly zero?"),
      claims.map((c, i) => h("option", { value: `claim:${i + 1}` }, `Will claim ${i + 1} hold? ${c.length > 70 ? `${c.slice(0, 70)}…` : c}`)));
  };
  questions();
  lesson.addEventListener("change", questions);
  const epochs = h("input", { id: "poll-epochs", type: "number", min: 1, max: 2000, placeholder: "default" });
  const seeds = h("input", { id: "poll-seeds", type: "number", min: 3, max: 10, placeholder: "default" });
  const form = h("form", { class: "panel poll-form", id: "poll-form" },
    h("h2", {}, "Predict, then watch"),
    h("p", { class: "muted" }, "Students answer before any curve is shown; you start the lesson once for the class (3 seeds at least), and when its runs end each page shows the guess against the outcome."),
    h("div", { class: "filters" },
      h("label", { for: "poll-lesson" }, "Lesson "), lesson,
      h("label", { for: "poll-question" }, "Question "), question,
      h("label", { for: "poll-epochs" }, "Epochs "), epochs,
      h("label", { for: "poll-seeds" }, "Seeds "), seeds,
      h("button", { type: "submit", class: "primary" }, "Open poll")));
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
      ctx.toast(`Could not open the poll: ${detail}`, "error");
    }
  });
  return form;
}

function studentRows(data, ctx, refresh) {
  return data.students.map((s) => {
    const cancel = h("button", { type: "button", class: "ghost small", "data-cancel-student": s.name, disabled: !(s.queued + s.running) }, "Cancel runs");
    cancel.addEventListener("click", async () => {
      if (!window.confirm(`Cancel every queued and running run of ${s.name}?`)) return;
      try {
        const page = await api.listExperiments({ owner: s.name, limit: 200 });
        const open = page.items.filter((e) => e.status !== "finished");
        await Promise.all(open.map((e) => api.cancelExperiment(e.id)));
        ctx.toast(`Cancelled ${s.name}'s ${open.length} unfinished experiments.`);
      } catch (err) {
        ctx.toast(`Could not cancel: ${err.message}`, "error");
      }
      refresh();
    });
    const free = h("button", { type: "button", class: "ghost small danger", "data-free": s.name }, "Free name");
    free.addEventListener("click", async () => {
      if (!window.confirm(`Free the name ${s.name}? Its browser loses it, and anyone may choose it again.`)) return;
      try {
        await api.resetName(s.name);
        ctx.toast(`${s.name} is free again.`);
      } catch (err) {
        ctx.toast(`Could not free ${s.name}: ${err.message}`, "error");
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
  return h("table", attrs, h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows));
}

function groupRows(groups) {
  return groups.map((g) => h("tr", {},
    h("td", {}, g.owners.join(", ")),
    h("td", {}, g.experiments.map((id, i) => [i ? ", " : "", h("a", { href: `#/experiments/${id}` }, `#${id}`)])),
    h("td", {}, `${g.runs.length} runs: ${g.runs.slice(0, 4).join(", ")}${g.runs.length > 4 ? "…" : ""}`),
    h("td", { class: "num" }, g.seconds === null ? "waiting" : `${g.seconds.toFixed(0)} s`)));
}

/** The challenges, each with the teacher's next step: close its entries, then reveal its board. */
function challengeRows(data, ctx, refresh) {
  const act = (label, c, call) => {
    const b = h("button", { type: "button", class: "ghost small", "data-challenge-action": `${label}-${c.id}` }, label);
    b.addEventListener("click", async () => {
      try {
        await call(c.id);
      } catch (err) {
        ctx.toast(`Could not ${label.toLowerCase()} “${c.title}”: ${err.message}`, "error");
      }
      refresh();
    });
    return b;
  };
  return data.challenges.map((c) => h("tr", { "data-challenge": c.id },
    h("td", {}, h("a", { href: pageUrl.challenge(c.id) }, c.title)),
    h("td", {}, h("span", { class: `badge status-${c.status}` }, c.status)),
    h("td", { class: "actions" },
      c.status === "open" ? act("Close", c, api.closeChallenge) : null,
      c.status !== "revealed" ? act("Reveal", c, api.revealChallenge) : null)));
}

function fill(body, data, polls, ctx, refresh) {
  clear(body);
  const flagged = data.flagged.map((f) => h("tr", { "data-flagged": f.run_id },
    h("td", {}, f.owner),
    h("td", {}, h("a", { href: `#/experiments/${f.experiment_id}` }, f.run)),
    h("td", {}, h("span", { class: `badge status-${f.status}` }, f.kind)),
    h("td", { class: "reason" }, f.reason)));
  const pollRows = polls.map((p) => h("tr", {},
    h("td", {}, h("a", { href: `#/polls/${p.id}` }, `Poll ${p.id}`)),
    h("td", {}, `${p.lesson}: ${p.text}`),
    h("td", {}, h("span", { class: "badge" }, p.state)),
    h("td", { class: "num" }, `${p.answers} answers`)));
  body.append(
    h("h2", {}, `Students (${data.students.length})`),
    h("div", { class: "panel table-panel" }, table(["Name", "Experiments", "Challenge entries", "Queued", "Running", "Failed", "Last seen", ""], studentRows(data, ctx, refresh), "No student has chosen a name yet.", { id: "students" })),
    h("h2", {}, `Workers (${data.workers.length} of ${data.slots} busy)`),
    h("div", { class: "panel table-panel" }, table(["For", "Experiments", "Training", "Trained for"], groupRows(data.workers), "Every worker is idle.", { id: "workers" })),
    h("h2", {}, `Queue (${data.queue.length} groups waiting)`),
    h("div", { class: "panel table-panel" }, table(["For", "Experiments", "Runs", ""], groupRows(data.queue), "Nothing waits.", { id: "queue" })),
    h("h2", {}, `Flagged runs (${data.flagged.length})`),
    h("div", { class: "panel table-panel" }, table(["Student", "Run", "Status", "Reason"], flagged, "No run has failed, diverged or hit the time limit.", { id: "flagged" })),
    h("h2", {}, "Challenges"),
    h("div", { class: "panel table-panel" }, table(["Challenge", "Status", ""], challengeRows(data, ctx, refresh), "No challenge yet: set one on the Challenges page.", { id: "challenges" })),
    h("h2", {}, "Polls"),
    h("div", { class: "panel table-panel" }, table(["Poll", "Question", "State", "Answers"], pollRows, "No poll yet.", { id: "polls" })));
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
  const body = h("div", { id: "class-body" }, h("p", { class: "muted" }, "Loading…"));
  const stopAll = h("button", { type: "button", class: "ghost danger", id: "class-cancel-all" }, "Cancel everything");
  const signOut = h("button", { type: "button", class: "ghost", id: "sign-out" }, "Sign out");
  root.append(
    h("section", { class: "intro exp-head" },
      h("div", {}, h("h1", {}, "Class"), h("p", { class: "lead" }, "Every student's work, what trains for whom, and what needs a look. It updates by itself.")),
      h("div", { class: "exp-actions" },
        h("a", { class: "button ghost", href: exportUrl.classCsv(), download: "", id: "class-csv" }, "Results as CSV"),
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
      ctx.toast(`Could not refresh the class: ${err.message}`, "error");
    }
    if (alive()) timer = setTimeout(refresh, REFRESH_MS);
  };
  stopAll.addEventListener("click", async () => {
    if (!window.confirm("Cancel every queued and running run of every student?")) return;
    try {
      const done = await api.cancelEverything();
      ctx.toast(`Cancelled ${done.cancelled.length} runs.`);
    } catch (err) {
      ctx.toast(`Could not cancel everything: ${err.message}`, "error");
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
