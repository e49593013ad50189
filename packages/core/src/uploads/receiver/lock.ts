/**
 * A FIFO mutex built on a promise chain: each `run` starts after the previous
 * one settled, whatever its outcome. Used per upload session, because a client
 * timeout plus a retry can put two requests for the same chunk in flight.
 *
 * @example
 * const lock = new SerialLock();
 * await Promise.all([lock.run(writeA), lock.run(writeB)]); // writeB starts after writeA settles
 */
export class SerialLock {
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

  /** Number of `run` calls started and not yet settled (running or queued). */
  get pending(): number {
    return this.#pending;
  }

  /** Runs `fn` once every earlier `run` has settled; resolves or rejects with `fn`'s outcome. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    this.#pending += 1;
    const result = this.#tail.then(fn);
    this.#tail = result.then(
      () => this.#settle(),
      () => this.#settle(),
    );
    return result;
  }

  #settle(): void {
    this.#pending -= 1;
  }
}
