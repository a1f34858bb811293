// Polls a task on a timer whose pace follows what is happening: every 2 s while a scan is
// active (progress changes every couple of seconds), every 15 s when nothing is, and every
// 2 s while the API is unreachable so the page recovers as soon as it is back.

export const ACTIVE_MS = 2000;
export const IDLE_MS = 15000;
export const RETRY_MS = 2000;

export class Poller {
  /**
   * @param {() => Promise<boolean>} task resolves to true while something is active
   * @param {(err: Error) => boolean} onError returns true to keep polling
   */
  constructor(task, onError, { activeMs = ACTIVE_MS, idleMs = IDLE_MS, retryMs = RETRY_MS } = {}) {
    this.task = task;
    this.onError = onError;
    this.activeMs = activeMs;
    this.idleMs = idleMs;
    this.retryMs = retryMs;
    this.timer = null;
    this.running = false;
    this.inFlight = null;
    this.again = false; // a run was asked for while one was in flight
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    return this.now();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = null;
  }

  /** Run the task now (or right after the one in flight) and reschedule. */
  async now() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = null;
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = this.#run();
    try {
      await this.inFlight;
    } finally {
      this.inFlight = null;
    }
    if (this.again && !this.stopped) {
      this.again = false;
      return this.now();
    }
  }

  async #run() {
    let delay;
    try {
      const active = await this.task();
      delay = active ? this.activeMs : this.idleMs;
    } catch (err) {
      if (!this.onError(err)) {
        this.stop();
        return;
      }
      delay = this.retryMs;
    }
    if (!this.stopped) this.timer = setTimeout(() => this.now(), delay);
  }
}
