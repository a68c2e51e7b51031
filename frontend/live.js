// The experiment's websocket: resumes from the last cursor after a drop, backing off exponentially.

import { experimentSocketUrl } from "./api.js";

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 8000;
const NOT_FOUND = 4404;

/**
 * Follows one experiment. `onEvent(msg)` gets every message exactly once, in order; the cursor of
 * the last delivered message is what a reconnect asks for, so a drop loses and repeats nothing.
 */
export class LiveStream {
  constructor(experimentId, { since = 0, snapshots = null, onEvent, onState = () => {} }) {
    this.experimentId = experimentId;
    this.snapshots = snapshots; // the runs whose snapshots to take (null: every run's)
    this.cursor = since;
    this.onEvent = onEvent;
    this.onState = onState;
    this.delay = FIRST_DELAY_MS;
    this.socket = null;
    this.timer = null;
    this.closed = false;
    this.reconnects = 0;
  }

  start() {
    this.closed = false;
    this.connect();
    return this;
  }

  connect() {
    if (this.closed) return;
    this.onState(this.reconnects ? "reconnecting" : "connecting");
    const socket = new WebSocket(experimentSocketUrl(this.experimentId, this.cursor, this.snapshots));
    this.socket = socket;
    socket.onopen = () => this.onState("live");
    // The socket is opened with batch=1: a message is an array of events (those the server had
    // waiting), one JSON.parse and one dispatch for all of them. A lone event is taken too.
    socket.onmessage = (e) => {
      const data = JSON.parse(e.data);
      for (const msg of Array.isArray(data) ? data : [data]) this.deliver(msg);
    };
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      // 4404: no such experiment; retrying cannot help. Anything else (a drop, the server's
      // "resume" code for a slow client, a restart) is resumed from the cursor.
      if (this.closed || e.code === NOT_FOUND) {
        this.onState(e.code === NOT_FOUND ? "missing" : "closed");
        return;
      }
      this.scheduleReconnect();
    };
  }

  deliver(msg) {
    // A resumed stream starts after our cursor; anything at or before it was already shown.
    if (typeof msg.cursor === "number") {
      if (msg.cursor <= this.cursor) return;
      this.cursor = msg.cursor;
    }
    this.delay = FIRST_DELAY_MS;
    this.onEvent(msg);
  }

  scheduleReconnect() {
    this.onState("reconnecting");
    const wait = this.delay * (0.75 + Math.random() * 0.5); // jitter: a class does not reconnect in step
    this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
    this.reconnects += 1;
    this.timer = setTimeout(() => this.connect(), wait);
  }

  /** Drops the connection as a network would; the stream comes back by itself (tests use this). */
  drop() {
    if (this.socket) this.socket.close(4000, "dropped by client");
  }

  stop() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, "view closed");
    this.socket = null;
  }
}
