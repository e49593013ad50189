/**
 * Where resumable upload sessions are recorded: a small interface so that a
 * cluster can share them (a Redis implementation claims a session parked by
 * another node), and the in-process default. A session is the claim key of
 * an unfinished Inlet-uploader upload (who may continue it, for which config
 * and which file) plus its durable offset; its bytes stay in the upload's
 * store under the same id. See docs/uploads.md, "Resume".
 */

/**
 * What a parked session is claimed by: all four must match.
 *
 * @example
 * const key: ResumeKey = { owner, config: 'videos', fingerprint, size: 734_003_200 }
 * const session = await sessions.claim(key, undefined, Date.now(), Date.now() - DEFAULT_RESUME_TTL_MS)
 */
export interface ResumeKey {
  /** The browser session: a keyed digest of the connection's CSRF token. */
  readonly owner: string;
  /** The upload config's name (config refs change with every mount). */
  readonly config: string;
  /** The client's file fingerprint (64 hex digits). */
  readonly fingerprint: string;
  /** The declared file size. */
  readonly size: number;
}

/**
 * One resumable upload session. JSON-safe, a few hundred bytes.
 *
 * @example
 * const parked: ResumeSession | undefined = await sessions.get(id)
 * if (parked?.state === 'parked') console.log(`${parked.clientName}: ${parked.offset} of ${parked.size} bytes kept`)
 */
export interface ResumeSession extends ResumeKey {
  /** The resume id the client is told, and the upload's id in its store. */
  readonly id: string;
  readonly clientName: string;
  readonly clientType?: string | undefined;
  /** `attached` while a channel writes to it; `parked` while it waits for a claim. */
  readonly state: 'attached' | 'parked';
  /** Bytes durably stored when it was last parked (0 while first attached). */
  readonly offset: number;
  readonly createdAt: number;
  /** Last activity (epoch ms): a parked session expires `ttl` after it. */
  readonly updatedAt: number;
  /** A saved SHA-256 state of `[0, offset)`, for stores that share sessions across processes. */
  readonly hash?: string | undefined;
}

/**
 * Caps checked when a session is added.
 *
 * @example
 * const limits: ResumeLimits = { perOwner: DEFAULT_RESUME_PER_BROWSER, total: DEFAULT_RESUME_TOTAL }
 * await sessions.add(session, limits, Date.now())
 */
export interface ResumeLimits {
  /** Sessions (parked or attached) one browser session may hold. */
  readonly perOwner: number;
  /** Sessions in total. */
  readonly total: number;
}

/**
 * The outcome of {@link ResumeSessionStore.add}.
 *
 * @example
 * const result: AddResult = await sessions.add(session, { perOwner: 32, total: 1024 }, Date.now())
 * if (result.added) for (const old of result.evicted) await store.abort({ id: old.id, size: old.size })
 */
export type AddResult = { readonly added: true; readonly evicted: readonly ResumeSession[] } | { readonly added: false };

/**
 * Records resumable sessions. Every implementation keeps these rules (the
 * conformance cases in `inletjs/testing`, `resumeSessionConformanceCases`,
 * check them):
 *
 * - `add` stores a new session (attached, or parked when a restarted server
 *   restores it). When its owner already holds
 *   `perOwner` sessions, or there are `total`, the least recently updated
 *   **parked** sessions are removed to make room and returned (their bytes are
 *   then discarded by the caller); when none can be, nothing is added.
 * - `claim` atomically turns the parked session with exactly this key (and
 *   this id, when one is given) whose `updatedAt` is at least `idleSince`
 *   into an attached one (`updatedAt` = `now`) and returns it. Anything else
 *   is `undefined` and changes nothing: another owner's session is never
 *   revealed or touched. Of two racing claims, one wins.
 * - `park` turns an attached session into a parked one at `offset`.
 * - `expire` removes and returns the parked sessions idle since before `idleSince`.
 *
 * @example
 * const sessions: ResumeSessionStore = new MemoryResumeSessionStore();
 * await sessions.add(session, { perOwner: 32, total: 1024 }, Date.now());
 * const again = await sessions.claim(key, rid, Date.now(), Date.now() - ttl);
 */
export interface ResumeSessionStore {
  add(session: ResumeSession, limits: ResumeLimits, now: number): Promise<AddResult>;
  claim(key: ResumeKey, id: string | undefined, now: number, idleSince: number): Promise<ResumeSession | undefined>;
  park(id: string, update: { readonly offset: number; readonly updatedAt: number; readonly hash?: string | undefined }): Promise<void>;
  get(id: string): Promise<ResumeSession | undefined>;
  remove(id: string): Promise<void>;
  expire(idleSince: number): Promise<ResumeSession[]>;
}

/** Whether a session matches a claim key exactly. */
export function matchesKey(session: ResumeKey, key: ResumeKey): boolean {
  return session.owner === key.owner && session.config === key.config && session.fingerprint === key.fingerprint && session.size === key.size;
}

/**
 * The default {@link ResumeSessionStore}: sessions of this process, in a map.
 * A restarted server rebuilds it from the default disk store's records (the
 * registry does that at start), so together they survive a restart.
 *
 * @example
 * const registry = new ResumeRegistry({ sessions: new MemoryResumeSessionStore(), ... })
 */
export class MemoryResumeSessionStore implements ResumeSessionStore {
  readonly #sessions = new Map<string, ResumeSession>();

  async add(session: ResumeSession, limits: ResumeLimits): Promise<AddResult> {
    const all = [...this.#sessions.values()];
    const mine = all.filter((s) => s.owner === session.owner);
    const parkedOldestFirst = (list: ResumeSession[]) => list.filter((s) => s.state === 'parked').sort((a, b) => a.updatedAt - b.updatedAt);
    const evict = new Map<string, ResumeSession>();
    // Make room for the owner first, then in total (an owner eviction also frees a total slot).
    const ownerExcess = mine.length + 1 - limits.perOwner;
    const ownerVictims = parkedOldestFirst(mine).slice(0, Math.max(0, ownerExcess));
    if (ownerVictims.length < ownerExcess) return { added: false };
    for (const v of ownerVictims) evict.set(v.id, v);
    const totalExcess = all.length - evict.size + 1 - limits.total;
    const totalVictims = parkedOldestFirst(all.filter((s) => !evict.has(s.id))).slice(0, Math.max(0, totalExcess));
    if (totalVictims.length < totalExcess) return { added: false };
    for (const v of totalVictims) evict.set(v.id, v);
    for (const id of evict.keys()) this.#sessions.delete(id);
    this.#sessions.set(session.id, session);
    return { added: true, evicted: [...evict.values()] };
  }

  async claim(key: ResumeKey, id: string | undefined, now: number, idleSince: number): Promise<ResumeSession | undefined> {
    const candidates = id !== undefined ? [this.#sessions.get(id)] : [...this.#sessions.values()];
    // Without an id, the most recently active match wins.
    const found = candidates
      .filter((s): s is ResumeSession => s !== undefined && s.state === 'parked' && s.updatedAt >= idleSince && matchesKey(s, key))
      .sort((a, b) => b.updatedAt - a.updatedAt)[0];
    if (!found) return undefined;
    const claimed: ResumeSession = { ...found, state: 'attached', updatedAt: now };
    this.#sessions.set(found.id, claimed);
    return claimed;
  }

  async park(id: string, update: { readonly offset: number; readonly updatedAt: number; readonly hash?: string | undefined }): Promise<void> {
    const s = this.#sessions.get(id);
    if (!s) return;
    const { hash: _old, ...rest } = s;
    this.#sessions.set(id, { ...rest, state: 'parked', offset: update.offset, updatedAt: update.updatedAt, ...(update.hash !== undefined ? { hash: update.hash } : {}) });
  }

  async get(id: string): Promise<ResumeSession | undefined> {
    return this.#sessions.get(id);
  }

  async remove(id: string): Promise<void> {
    this.#sessions.delete(id);
  }

  async expire(idleSince: number): Promise<ResumeSession[]> {
    const gone = [...this.#sessions.values()].filter((s) => s.state === 'parked' && s.updatedAt < idleSince);
    for (const s of gone) this.#sessions.delete(s.id);
    return gone;
  }

  /** Sessions held (for tests and diagnostics). */
  get size(): number {
    return this.#sessions.size;
  }
}
