/**
 * The server's resumable upload sessions (one registry per app): opening a
 * session for a new Inlet-uploader upload, parking it when its channel goes
 * away (socket drop, view end, server shutdown), claiming it again for the
 * same browser session, config and file, and expiring it. Sessions are
 * recorded in a {@link ResumeSessionStore}; what cannot leave the process
 * (the live SHA-256 of a parked upload, a config's store object) is kept
 * here. See docs/uploads.md, "Resume".
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { DiskStore } from '../disk-store.js';
import { PART_SUFFIX, RECORD_SUFFIX } from '../disk-store.js';
import type { StoredUpload, UploadRecord, UploadStore } from '../store.js';
import { matchesKey, MemoryResumeSessionStore, type ResumeKey, type ResumeSession, type ResumeSessionStore } from './session-store.js';

/**
 * Default time a parked session waits for its claim.
 *
 * @example
 * createServer({ routes, uploadResume: { ttlMs: 4 * DEFAULT_RESUME_TTL_MS } }) // parked uploads wait 4 hours
 */
export const DEFAULT_RESUME_TTL_MS = 60 * 60_000;
/**
 * Default sessions (parked or attached) per browser session.
 *
 * @example
 * createServer({ routes, uploadResume: { maxPerBrowser: 2 * DEFAULT_RESUME_PER_BROWSER } }) // 64 per browser session
 */
export const DEFAULT_RESUME_PER_BROWSER = 32;
/**
 * Default sessions in total.
 *
 * @example
 * createServer({ routes, uploadResume: { maxTotal: 10 * DEFAULT_RESUME_TOTAL } }) // 10,240 in total
 */
export const DEFAULT_RESUME_TOTAL = 1024;
/** How often expired sessions are swept. */
export const RESUME_SWEEP_INTERVAL_MS = 60_000;
/**
 * A claim naming an attached session by its id takes it over from its
 * channel when that channel has received nothing for this long: the claim
 * comes from the same browser session, whose old socket died without the
 * server noticing yet (a lost network). A live upload sends more often.
 */
export const RESUME_TAKEOVER_IDLE_MS = 2000;
/** `metadata.kind` of the store records of resumable sessions. */
export const RESUME_RECORD_KIND = 'inlet-resume-1';

/**
 * Options of {@link ResumeRegistry}.
 *
 * @example
 * const uploadResume: ResumeOptions = { ttlMs: 24 * 3_600_000, maxPerBrowser: 8, sessions: new RedisResumeSessionStore({ client: redis }) }
 * createServer({ routes, pubsub, uploadResume })
 */
export interface ResumeOptions {
  /** A parked session expires this long after its last activity. Default 1 hour. */
  readonly ttlMs?: number;
  /** Sessions one browser session may hold. Default 32. */
  readonly maxPerBrowser?: number;
  /** Sessions in total. Default 1,024. */
  readonly maxTotal?: number;
  /** How often expired sessions are swept; 0 turns the timer off. Default 1 minute. */
  readonly sweepIntervalMs?: number;
  /** Where sessions are recorded. Default: in this process, restored from the default store's records at start. */
  readonly sessions?: ResumeSessionStore;
}

/** What the registry is built with. */
export interface ResumeRegistryOptions extends ResumeOptions {
  /** The default store of resumable uploads (a DiskStore in a folder that survives restarts). */
  readonly defaultStore: () => Promise<UploadStore>;
  readonly log: (message: string, error?: unknown) => void;
}

/** What a channel holds while it writes to a session. */
export interface ResumeHandle {
  readonly id: string;
  /**
   * The channel went away before the upload finished: the session waits for
   * a claim at `offset` (the bytes written once `idle` resolves; it resolves
   * false when the last write failed, and the session is then discarded).
   */
  park(offset: number, hash: Hash, idle: Promise<boolean>): void;
  /** The channel writing to the session: how long it has been idle, and how to make it let go (it parks). */
  heldBy(channel: SessionHolder): void;
  /**
   * The upload is over (cancelled, failed, or complete): the session record
   * goes (its bytes are the caller's to complete or abort). Also after a
   * park, unless the session was claimed again since.
   */
  end(): void;
}

/** What a registry needs of the channel holding a session, to take it over. */
export interface SessionHolder {
  /** Ms since the channel last received a chunk (or joined). */
  idleMs(): number;
  /** Closes the channel, parking the session. */
  close(mode: 'park'): Promise<void>;
}

/** A claimed or opened session, ready for a channel. */
export interface AttachedSession {
  readonly handle: ResumeHandle;
  readonly store: UploadStore;
  readonly record: UploadRecord;
  /** Where the upload continues (0 for a new one). */
  readonly offset: number;
  /** The SHA-256 of `[0, offset)`. */
  readonly hash: Hash;
  readonly resumed: boolean;
}

interface Held {
  /** Which attachment holds it: an older channel's handle can no longer end or park it. */
  gen: number;
  store: UploadStore;
  record: UploadRecord;
  /** The live hash of a parked session, and the offset it stands at. */
  hash?: Hash;
  hashOffset?: number;
  /** Resolves once the last write of the channel that parked it is done (false: it failed). */
  idle: Promise<boolean>;
  /** The attached channel, while one holds it. */
  holder?: SessionHolder;
  /** The park under way, until its record is written. */
  parking?: Promise<void>;
}

/**
 * The server-wide registry of resumable upload sessions.
 *
 * @example
 * const resume = new ResumeRegistry({ defaultStore: async () => new DiskStore({ dir }), log: console.error });
 * await resume.start();
 */
export class ResumeRegistry {
  readonly ttlMs: number;
  readonly maxPerBrowser: number;
  readonly maxTotal: number;
  readonly #sessions: ResumeSessionStore;
  readonly #defaultStore: () => Promise<UploadStore>;
  readonly #log: (message: string, error?: unknown) => void;
  readonly #sweepIntervalMs: number;
  /** What this process holds for the sessions it opened, parked or restored. */
  readonly #held = new Map<string, Held>();
  #timer?: NodeJS.Timeout;
  #started?: Promise<void>;
  #gen = 0;

  constructor(options: ResumeRegistryOptions) {
    this.ttlMs = options.ttlMs ?? DEFAULT_RESUME_TTL_MS;
    this.maxPerBrowser = options.maxPerBrowser ?? DEFAULT_RESUME_PER_BROWSER;
    this.maxTotal = options.maxTotal ?? DEFAULT_RESUME_TOTAL;
    this.#sessions = options.sessions ?? new MemoryResumeSessionStore();
    this.#defaultStore = options.defaultStore;
    this.#log = options.log;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? RESUME_SWEEP_INTERVAL_MS;
  }

  /** The default store of resumable uploads. */
  defaultStore(): Promise<UploadStore> {
    return this.#defaultStore();
  }

  /**
   * Restores the sessions a previous process left in the default store
   * (expired ones are removed, with stray files), then sweeps periodically.
   * Idempotent.
   */
  start(): Promise<void> {
    this.#started ??= this.#restore().then(() => {
      if (this.#sweepIntervalMs > 0 && !this.#timer) {
        this.#timer = setInterval(() => void this.sweep(), this.#sweepIntervalMs);
        this.#timer.unref?.();
      }
    });
    return this.#started;
  }

  /** Stops the sweep timer. Parked sessions stay on disk for the next process. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Opens a session for a new upload: `undefined` when the caps are reached
   * and no parked session can make room.
   */
  async open(key: ResumeKey, store: UploadStore, info: { clientName: string; clientType?: string | undefined }): Promise<AttachedSession | undefined> {
    await this.start();
    const now = Date.now();
    const id = randomBytes(18).toString('base64url');
    const session: ResumeSession = { ...key, id, clientName: info.clientName, clientType: info.clientType, state: 'attached', offset: 0, createdAt: now, updatedAt: now };
    const result = await this.#sessions.add(session, { perOwner: this.maxPerBrowser, total: this.maxTotal }, now);
    if (!result.added) return undefined;
    for (const victim of result.evicted) await this.#discardBytes(victim);
    const record = recordOf(session);
    const gen = ++this.#gen;
    this.#held.set(id, { gen, store, record, idle: Promise.resolve(true) });
    return { handle: this.#handle(id, gen), store, record, offset: 0, hash: createHash('sha256'), resumed: false };
  }

  /**
   * Claims the parked session with exactly this key (and `id`, when the
   * client gave one), waiting for the write its last channel had under way.
   * `store` is the store the config would use now. Undefined when there is
   * nothing to claim (or it can no longer be continued: it is then discarded).
   */
  async claim(key: ResumeKey, id: string | undefined, store: UploadStore): Promise<AttachedSession | undefined> {
    await this.start();
    const now = Date.now();
    const session = (await this.#sessions.claim(key, id, now, now - this.ttlMs)) ?? (id !== undefined ? await this.#takeOver(key, id) : undefined);
    if (!session) return undefined;
    const held = this.#held.get(session.id);
    await held?.parking;
    const usable = held ? await held.idle : true;
    const at = held?.store ?? store;
    const record = held?.record ?? recordOf(session);
    try {
      if (!usable) throw new Error('its last write failed');
      const found = at.get ? await at.get(session.id) : undefined;
      if (at.get && !found) throw new Error('its bytes are gone');
      const offset = found ? found.offset : session.offset;
      if (offset > session.size) throw new Error('more bytes than declared');
      const hash = await this.#hashAt(session.id, held, at, offset);
      const gen = ++this.#gen;
      this.#held.set(session.id, { gen, store: at, record, idle: Promise.resolve(true) });
      return { handle: this.#handle(session.id, gen), store: at, record, offset, hash, resumed: true };
    } catch (e) {
      this.#log(`resumable upload ${session.id} cannot be continued: ${e instanceof Error ? e.message : String(e)}`);
      await this.#sessions.remove(session.id);
      this.#held.delete(session.id);
      await at.abort(record).catch(() => undefined);
      return undefined;
    }
  }

  /**
   * Claims session `id` from the idle channel still holding it in this
   * process (see {@link RESUME_TAKEOVER_IDLE_MS}); undefined otherwise.
   */
  async #takeOver(key: ResumeKey, id: string): Promise<ResumeSession | undefined> {
    const held = this.#held.get(id);
    const holder = held?.holder;
    if (!held || !holder || holder.idleMs() < RESUME_TAKEOVER_IDLE_MS) return undefined;
    const current = await this.#sessions.get(id);
    if (!current || current.state !== 'attached' || !matchesKey(current, key)) return undefined;
    await holder.close('park');
    await held.parking;
    const now = Date.now();
    return this.#sessions.claim(key, id, now, now - this.ttlMs);
  }

  /** Removes expired parked sessions and their bytes; resolves to how many went. */
  async sweep(now = Date.now()): Promise<number> {
    let gone: ResumeSession[];
    try {
      gone = await this.#sessions.expire(now - this.ttlMs);
    } catch (e) {
      this.#log('sweeping resumable uploads failed', e);
      return 0;
    }
    for (const s of gone) await this.#discardBytes(s);
    return gone.length;
  }

  /** The recorded session (for tests and diagnostics). */
  session(id: string): Promise<ResumeSession | undefined> {
    return this.#sessions.get(id);
  }

  /** The SHA-256 of `[0, offset)`: the parked live hash when it stands there, else read back from the store. */
  async #hashAt(id: string, held: Held | undefined, store: UploadStore, offset: number): Promise<Hash> {
    if (held?.hash && held.hashOffset === offset) return held.hash;
    const hash = createHash('sha256');
    if (offset === 0) return hash;
    if (!store.read) throw new Error('its store cannot read bytes back to rebuild the checksum');
    let at = 0;
    for await (const piece of store.read(id, 0, offset)) {
      hash.update(piece);
      at += piece.length;
    }
    if (at !== offset) throw new Error(`read back ${at} of ${offset} bytes`);
    return hash;
  }

  #handle(id: string, gen: number): ResumeHandle {
    let state: 'attached' | 'parked' | 'ended' = 'attached';
    const mine = (): Held | undefined => {
      const held = this.#held.get(id);
      return held?.gen === gen ? held : undefined;
    };
    return {
      id,
      park: (offset, hash, idle) => {
        const held = mine();
        if (state !== 'attached' || !held) return;
        state = 'parked';
        held.holder = undefined;
        held.hash = hash;
        held.hashOffset = offset;
        held.idle = idle.then(async (ok) => {
          if (!ok) await this.#forget(id);
          return ok;
        });
        held.parking = this.#sessions.park(id, { offset, updatedAt: Date.now() }).catch((e: unknown) => this.#log(`parking resumable upload ${id} failed`, e));
      },
      heldBy: (channel) => {
        const held = mine();
        if (held && state === 'attached') held.holder = channel;
      },
      end: () => {
        if (state === 'ended') return;
        state = 'ended';
        // Claimed again meanwhile: the session is no longer this handle's to end.
        if (mine()) void this.#forget(id);
      },
    };
  }

  async #forget(id: string): Promise<void> {
    this.#held.delete(id);
    await this.#sessions.remove(id).catch((e: unknown) => this.#log(`removing resumable upload ${id} failed`, e));
  }

  async #discardBytes(session: ResumeSession): Promise<void> {
    const held = this.#held.get(session.id);
    this.#held.delete(session.id);
    const store = held?.store ?? (await this.#defaultStore());
    await held?.idle;
    await store.abort(held?.record ?? recordOf(session)).catch((e: unknown) => this.#log(`discarding resumable upload ${session.id} failed`, e));
  }

  async #restore(): Promise<void> {
    let store: UploadStore;
    try {
      store = await this.#defaultStore();
    } catch (e) {
      this.#log('the resumable upload folder cannot be opened', e);
      return;
    }
    if (!store.list) return;
    const idleSince = Date.now() - this.ttlMs;
    const kept = new Set<string>();
    try {
      for await (const upload of store.list()) {
        const session = sessionOf(upload);
        if (!session || upload.updatedAt < idleSince) {
          await store.abort(upload).catch(() => undefined);
          continue;
        }
        kept.add(upload.id);
        if (await this.#sessions.get(upload.id)) continue; // shared sessions already know it
        await this.#sessions.add(session, { perOwner: Infinity, total: Infinity }, Date.now());
        this.#held.set(upload.id, { gen: ++this.#gen, store, record: recordOf(session), idle: Promise.resolve(true) });
      }
    } catch (e) {
      this.#log('restoring resumable uploads failed', e);
    }
    await removeStrays(store as Partial<DiskStore>, kept, idleSince);
  }
}

/** The store record of a session: its key travels as metadata, so a restarted server can restore it. */
export function recordOf(s: ResumeSession): UploadRecord {
  return {
    id: s.id,
    size: s.size,
    ...(s.clientType ? { contentType: s.clientType } : {}),
    metadata: { kind: RESUME_RECORD_KIND, owner: s.owner, config: s.config, fp: s.fingerprint, name: s.clientName, ...(s.clientType ? { type: s.clientType } : {}) },
  };
}

function sessionOf(u: StoredUpload): ResumeSession | undefined {
  const m = u.metadata;
  if (!m || m.kind !== RESUME_RECORD_KIND || !m.owner || !m.config || !m.fp || u.offset > u.size) return undefined;
  return {
    id: u.id,
    owner: m.owner,
    config: m.config,
    fingerprint: m.fp,
    size: u.size,
    clientName: m.name ?? u.id,
    clientType: m.type,
    state: 'parked',
    offset: u.offset,
    createdAt: u.updatedAt,
    updatedAt: u.updatedAt,
  };
}

/**
 * Files in a disk store's folder that belong to no kept session (a finished
 * upload whose process died before its consumer took it, a part whose record
 * was lost) are removed once they are older than the TTL.
 */
async function removeStrays(store: Partial<DiskStore>, kept: Set<string>, idleSince: number): Promise<void> {
  const dir = typeof store.dir === 'string' ? store.dir : undefined;
  if (!dir) return;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const id = name.endsWith(PART_SUFFIX) ? name.slice(0, -PART_SUFFIX.length) : name.endsWith(RECORD_SUFFIX) ? name.slice(0, -RECORD_SUFFIX.length) : name;
    if (kept.has(id)) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && info.mtimeMs < idleSince) await unlink(path).catch(() => undefined);
  }
}
