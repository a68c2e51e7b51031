// A class poll: a student answers before any curve is shown, watches the same live runs as the
// class, then sees the guess against the outcome the runs decided and the class's spread.
// The teacher sees only the number of answers until then, and starts the runs.

import { api } from "../api.js";
import { clear, fmt, h } from "../dom.js";
import * as experimentView from "./experiment.js";
import { aliveWhile } from "./class.js";

// How often the page asks for the poll's state (ms): an answer count or a start shows within 2 s.
const POLL_MS = 2000;

function percent(n, total) {
  return total ? Math.round((100 * n) / total) : 0;
}

/** The class's answers per choice as bars, the outcome's choice and your own marked. */
function spreadBars(poll) {
  const total = Object.values(poll.spread).reduce((a, b) => a + b, 0);
  return h("div", { class: "spread", id: "poll-spread", role: "list", "aria-label": "The class's answers" },
    poll.choices.map((c) => {
      const n = poll.spread[c];
      const won = c === poll.outcome.choice || (poll.outcome.tied?.includes(c) && poll.outcome.tied.length < poll.choices.length);
      const marks = [won ? "outcome" : "", c === poll.mine ? "mine" : ""].filter(Boolean).join(" ");
      return h("div", { class: `spread-row ${marks}`, role: "listitem", "data-choice": c },
        h("span", { class: "spread-name" }, c),
        h("span", { class: "spread-bar" }, h("span", { class: "spread-fill", style: { width: `${percent(n, total)}%` } })),
        h("span", { class: "spread-count" }, `${n} (${percent(n, total)} %)`));
    }));
}

function outcomePanel(poll, teacher) {
  const o = poll.outcome;
  // A tie of every variant decides nothing; a tie of some, that each of them shares the win.
  const everyone = (o.tied || []).length === poll.choices.length;
  const decided = o.choice ?? (everyone ? "no winner: every variant ends level" : o.tied ? `${o.tied.join(" and ")} (a tie)` : "nothing");
  const right = Boolean(poll.mine) && !everyone && (o.choice === poll.mine || (o.tied || []).includes(poll.mine));
  const verdict = !poll.mine ? "You did not answer."
    : right ? `Your guess, ${poll.mine}, was right.`
    : everyone ? `Your guess was ${poll.mine}; these runs could not tell the variants apart.`
    : `Your guess was ${poll.mine}.`;
  const rows = poll.choices.map((c) => {
    const n = o.numbers?.[c] || {};
    return h("tr", { "data-choice": c, class: [c === o.choice ? "outcome" : "", c === poll.mine ? "mine" : ""].join(" ").trim() || null },
      h("td", { "data-col": "name" }, c),
      h("td", { class: "num" }, fmt(n.mean)),
      h("td", { class: "num" }, n.sd === undefined ? "—" : `± ${fmt(n.sd, 2)}`),
      h("td", { class: "num" }, String(n.n ?? 0)));
  });
  // A claim's outcome has no per-variant table: the check's own numbers say what it saw.
  const table = Object.keys(o.numbers || {}).length === 0 ? null : h("div", { class: "table-panel" },
    h("table", { id: "poll-numbers" },
      h("thead", {}, h("tr", {}, ["Variant", `Mean ${o.what || o.metric}`, "Spread over seeds (sd)", "Seeds"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, rows)));
  return h("section", { class: "panel poll-outcome", id: "poll-outcome" },
    h("h2", {}, `The runs decided: ${decided}`),
    teacher && !poll.mine ? null : h("p", { class: `poll-verdict ${right ? "right" : "wrong"}`, id: "poll-verdict" }, verdict),
    h("p", { class: "muted", id: "poll-sureness" }, o.sureness),
    table,
    h("h3", {}, "What the class guessed"),
    spreadBars(poll));
}

function answerButtons(poll, refresh, ctx) {
  return h("div", { class: "poll-choices", id: "poll-choices" },
    poll.choices.map((c) => {
      const b = h("button", { type: "button", class: "primary big", "data-choice": c }, c);
      b.addEventListener("click", async () => {
        await ctx.ensureUser("Choose your name to answer.");
        try {
          await api.answerPoll(poll.id, c);
        } catch (err) {
          ctx.toast(`Could not answer: ${err.message}`, "error");
        }
        refresh();
      });
      return b;
    }));
}

export async function render(root, ctx) {
  const id = ctx.route.id;
  const { alive, stop } = aliveWhile(ctx);
  const [first, session] = await Promise.all([api.poll(id, ctx.signal), api.session()]);
  if (!alive()) return null;
  ctx.setTeacher?.(session.teacher);
  const teacher = session.teacher;
  const head = h("section", { class: "intro" },
    h("h1", { id: "poll-question" }, first.text),
    h("p", { class: "lead" }, `Lesson: ${first.lesson}. The runs decide, with ${first.choices.length} variants, each trained with several seeds.`));
  const status = h("div", { class: "panel poll-status", id: "poll-status", "aria-live": "polite" });
  const outcome = h("div", { id: "poll-outcome-slot" });
  const live = h("div", { class: "poll-live", id: "poll-live" });
  root.append(head, status, outcome, live);

  let timer = null;
  let watching = null; // the embedded experiment view's teardown, once the runs started
  let watched = false;
  let shownState = null;
  const show = (poll) => {
    clear(status);
    if (poll.state === "open") {
      status.append(h("p", { class: "poll-count", id: "poll-count" }, `${poll.answers} ${poll.answers === 1 ? "answer" : "answers"} so far.`));
      if (teacher) {
        const start = h("button", { type: "button", class: "primary big", id: "poll-start" }, "▶ Start: close answering and run the lesson");
        start.addEventListener("click", async () => {
          start.disabled = true;
          try {
            await api.startPoll(poll.id);
          } catch (err) {
            ctx.toast(`Could not start: ${err.message}`, "error");
            start.disabled = false;
          }
          refresh();
        });
        status.append(start);
      } else if (poll.mine) {
        status.append(h("p", { class: "poll-mine", id: "poll-mine" }, `Your guess: ${poll.mine}. The curves appear when your teacher starts the runs.`));
      } else {
        status.append(h("p", {}, "Make your guess before you see any curve:"), answerButtons(poll, refresh, ctx));
      }
    } else {
      const mine = poll.mine ? `Your guess: ${poll.mine}.` : teacher ? `${poll.answers} students answered.` : "You did not answer.";
      status.append(h("p", { class: "poll-mine", id: "poll-mine" }, mine, " ", poll.state === "running" ? "The runs are training…" : ""));
    }
    if (poll.state === "done" && shownState !== "done") {
      outcome.replaceChildren(outcomePanel(poll, teacher));
    }
    shownState = poll.state;
  };

  const watch = async (experimentId) => {
    if (watched) return;
    watched = true;
    // The live view of the class's one experiment, the same every student sees.
    watching = (await experimentView.render(live, { ...ctx, route: { ...ctx.route, id: String(experimentId) } })) || null;
    if (!alive()) watching?.();
  };

  const refresh = async () => {
    clearTimeout(timer);
    let poll;
    try {
      poll = await api.poll(id, ctx.signal);
    } catch (err) {
      if (!alive()) return;
      ctx.toast(`Could not read the poll: ${err.message}`, "error");
      timer = setTimeout(refresh, POLL_MS);
      return;
    }
    if (!alive()) return;
    show(poll);
    if (poll.experiment) await watch(poll.experiment);
    if (alive() && poll.state !== "done") timer = setTimeout(refresh, POLL_MS);
  };
  const halt = () => {
    stop();
    clearTimeout(timer);
    watching?.();
  };
  ctx.signal?.addEventListener("abort", halt);
  show(first);
  if (first.experiment) await watch(first.experiment);
  if (alive() && first.state !== "done") timer = setTimeout(refresh, POLL_MS);
  return halt;
}
