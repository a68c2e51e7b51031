// The run statuses, as the API serves them (GET /api/statuses, read once as the page starts).
//
// The page names a status only through `STATUS` (`STATUS.stopped_early`), which answers a name the
// API serves and fails loudly for any other: a status renamed in events.RunStatus breaks the page
// at once instead of leaving a comparison that silently never matches. Which statuses end a run
// (`isFinal`) is the API's list too.

let served = new Set();
let final = new Set();

/** Takes GET /api/statuses' answer, `{statuses: [...], final: [...]}`: the page's one copy. */
export function setStatuses(answer) {
  served = new Set(answer.statuses);
  final = new Set(answer.final);
}

/** Whether a run in `status` will never train again. */
export const isFinal = (status) => final.has(status);

/** `STATUS.running` is "running" once the API has said it serves it. */
export const STATUS = new Proxy(Object.freeze({}), {
  get(_, name) {
    if (served.has(name)) return name;
    if (!served.size) throw new Error(`reglab: run status "${String(name)}" asked for before GET /api/statuses was read`);
    throw new Error(`reglab: the API serves no run status "${String(name)}" (it serves ${[...served].join(", ")})`);
  },
});
