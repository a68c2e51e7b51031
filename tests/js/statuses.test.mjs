// The run statuses the page names: only those the API serves, and it says so when asked for another.

import assert from "node:assert/strict";
import { test } from "node:test";

import { isFinal, setStatuses, STATUS } from "../../frontend/statuses.js";

test("a status is named only once the API has served the list, and the error says why", () => {
  assert.throws(() => STATUS.running, /before GET \/api\/statuses was read/);
});

test("the page names the statuses the API serves and reads which are final from it", () => {
  setStatuses({ statuses: ["queued", "running", "completed"], final: ["completed"] });
  assert.equal(STATUS.running, "running");
  assert.equal(isFinal(STATUS.completed), true);
  assert.equal(isFinal(STATUS.running), false);
});

test("a status the API does not serve fails loudly instead of never matching", () => {
  setStatuses({ statuses: ["queued", "running", "completed"], final: ["completed"] });
  assert.throws(() => STATUS.stopped_early, /serves no run status "stopped_early" \(it serves queued, running, completed\)/);
});
