// Holds a view's events until something releases them, one release per
// event (a counting semaphore per event name). The forms examples use it
// when opened with ?gate, so tests can watch the client's loading and
// locked states while the server has not answered yet.
const permits = new Map();
const waiting = new Map();

export const gate = {
  /** Resolves when `name` may run: at once if a release is banked, else at the next release. */
  acquire(name) {
    const banked = permits.get(name) ?? 0;
    if (banked > 0) {
      permits.set(name, banked - 1);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const list = waiting.get(name) ?? [];
      list.push(resolve);
      waiting.set(name, list);
    });
  },
  /** Lets one waiting (or the next) `name` event run. */
  release(name) {
    const list = waiting.get(name);
    const next = list?.shift();
    if (next) next();
    else permits.set(name, (permits.get(name) ?? 0) + 1);
  },
  /** How many `name` events are waiting. */
  waiting(name) {
    return waiting.get(name)?.length ?? 0;
  },
  reset() {
    permits.clear();
    for (const list of waiting.values()) for (const resolve of list) resolve();
    waiting.clear();
  },
};
