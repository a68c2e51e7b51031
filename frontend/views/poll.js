// A class poll: a student answers before any curve is shown, watches the same live runs as the
// class, then sees the guess against the outcome the runs decided and the class's spread.
// The teacher sees only the number of answers until then, and starts the runs.

import { api } from "../api.js";
import { clear, fmt, h } from "../dom.js";
import { t } from "../i18n.js";
import * as experimentView from "./experiment.js";
import { aliveWhile } from "./class.js";
import { choiceText, questionText, surenessText, whatText } from "./poll-text.js";

// How often the page asks for the poll's state (ms): an answer count or a start shows within 2 s.
const POLL_MS = 2000;

function percent(n, total) {
  return total ? Math.round((100 * n) / total) : 0;
}

/** The class's answers per choice as bars, the outcome's choice and your own marked. */
function spreadBars(poll) {
  const total = Object.values(poll.spread).reduce((a, b) => a + b, 0);
  return h("div", { class: "spread", id: "poll-spread", role: "list", "aria-label": t("poll.spread") },
    poll.choices.map((c) => {
      const n = poll.spread[c];
      const won = c === poll.outcome.choice || (poll.outcome.tied?.includes(c) && poll.outcome.tied.length < poll.choices.length);
      const marks = [won ? "outcome" : "", c === poll.mine ? "mine" : ""].filter(Boolean).join(" ");
      return h("div", { class: `spread-row ${marks}`, role: "listitem", "data-choice": c },
        h("span", { class: "spread-name" }, choiceText(c)),
        h("span", { class: "spread-bar" }, h("span", { class: "spread-fill", style: { width: `${percent(n, total)}%` } })),
        h("span", { class: "spread-count" }, `${n} (${percent(n, total)} %)`));
    }));
}

function outcomePanel(poll, teacher) {
  const o = poll.outcome;
  // A tie of every variant decides nothing; a tie of some, that each of them shares the win.
  const everyone = (o.tied || []).length === poll.choices.length;
  const decided = o.choice ? choiceText(o.choice) : everyone ? t("poll.decided.level") : o.tied ? t("poll.decided.tie", { names: o.tied.join(t("poll.and")) }) : t("poll.decided.nothing");
  const right = Boolean(poll.mine) && !everyone && (o.choice === poll.mine || (o.tied || []).includes(poll.mine));
  const guess = poll.mine ? choiceText(poll.mine) : null;
  const verdict = !poll.mine ? t("poll.verdict.none")
    : right ? t("poll.verdict.right", { guess })
    : everyone ? t("poll.verdict.level", { guess })
    : t("poll.verdict.wrong", { guess });
  const rows = poll.choices.map((c) => {
    const n = o.numbers?.[c] || {};
    return h("tr", { "data-choice": c, class: [c === o.choice ? "outcome" : "", c === poll.mine ? "mine" : ""].join(" ").trim() || null },
      h("td", { "data-col": "name", "data-mine-label": t("poll.yourGuess") }, choiceText(c)),
      h("td", { class: "num" }, fmt(n.mean)),
      h("td", { class: "num" }, n.sd === undefined ? "—" : `± ${fmt(n.sd, 2)}`),
      h("td", { class: "num" }, String(n.n ?? 0)));
  });
  // A claim's outcome has no per-variant table: the check's own numbers say what it saw.
  const table = Object.keys(o.numbers || {}).length === 0 ? null : h("div", { class: "table-panel" },
    h("table", { id: "poll-numbers" },
      h("thead", {}, h("tr", {}, [t("poll.col.variant"), t("poll.col.mean", { what: whatText(o) }), t("poll.col.sd"), t("poll.col.seeds")].map((text) => h("th", { scope: "col" }, text)))),
      h("tbody", {}, rows)));
  return h("section", { class: "panel poll-outcome", id: "poll-outcome" },
    h("h2", {}, t("poll.decided", { decided })),
    teacher && !poll.mine ? null : h("p", { class: `poll-verdict ${right ? "right" : "wrong"}`, id: "poll-verdict" }, verdict),
    h("p", { class: "muted", id: "poll-sureness", title: o.seen || "" }, surenessText(o)),
    table,
    h("h3", {}, t("poll.classGuessed")),
    spreadBars(poll));
}

function answerButtons(poll, refresh, ctx) {
  return h("div", { class: "poll-choices", id: "poll-choices" },
    poll.choices.map((c) => {
      const b = h("button", { type: "button", class: "primary big", "data-choice": c }, choiceText(c));
      b.addEventListener("click", async () => {
        await ctx.ensureUser(t("poll.needName"));
        try {
          await api.answerPoll(poll.id, c);
        } catch (err) {
          ctx.toast(t("poll.answerError", { error: err.message }), "error");
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
    h("h1", { id: "poll-question" }, questionText(first)),
    h("p", { class: "lead" }, t("poll.lead", { lesson: first.lesson, n: first.choices.length })));
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
      status.append(h("p", { class: "poll-count", id: "poll-count" }, poll.answers === 1 ? t("poll.count.one", { n: poll.answers }) : t("poll.count", { n: poll.answers })));
      if (teacher) {
        const start = h("button", { type: "button", class: "primary big", id: "poll-start" }, t("poll.start"));
        start.addEventListener("click", async () => {
          start.disabled = true;
          try {
            await api.startPoll(poll.id);
          } catch (err) {
            ctx.toast(t("poll.startError", { error: err.message }), "error");
            start.disabled = false;
          }
          refresh();
        });
        status.append(start);
      } else if (poll.mine) {
        status.append(h("p", { class: "poll-mine", id: "poll-mine" }, t("poll.mine.waiting", { guess: choiceText(poll.mine) })));
      } else {
        status.append(h("p", {}, t("poll.guessPrompt")), answerButtons(poll, refresh, ctx));
      }
    } else {
      const mine = poll.mine ? t("poll.mine", { guess: choiceText(poll.mine) }) : teacher ? t("poll.answered", { n: poll.answers }) : t("poll.verdict.none");
      status.append(h("p", { class: "poll-mine", id: "poll-mine" }, mine, " ", poll.state === "running" ? t("poll.training") : ""));
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
      ctx.toast(t("poll.readError", { error: err.message }), "error");
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
