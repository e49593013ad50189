/**
 * Upload channel bookkeeping for one view: which entry has a channel (or a
 * join under way), its writer, the per-view channel limit, and the checks a
 * joining channel's token must pass. The channel itself is
 * `upload-channel.ts`.
 */
import type { EntryState } from './config.js';
import { autoChunkSize, autoChunkTimeout } from './config.js';
import { UPLOAD_REASONS } from './reasons.js';
import type { ConfigState } from './state.js';
import type { Hash } from 'node:crypto';
import type { ResumeHandle } from './resume/registry.js';
import type { UploadRecord, UploadStore } from './store.js';

/** Default most upload channels one view may hold at once. */
export const DEFAULT_MAX_UPLOAD_CHANNELS = 50;

/** The data inside an upload token. */
export interface UploadTokenData {
  /** view id */
  readonly v: string;
  /** instance nonce: a token from an earlier mount of the same view is refused */
  readonly n: string;
  /** config ref */
  readonly c: string;
  /** entry ref */
  readonly e: string;
}

/** The chunk size and timeout an entry was preflighted with. */
export interface ChunkLimits {
  readonly chunkSize: number;
  readonly chunkTimeout: number;
  /** Bytes in flight (Inlet uploader). */
  readonly window?: number;
}

/** An open upload channel, as the manager sees it. */
export interface ChannelHandle {
  /**
   * Closes the channel (client gets phx_close). An unfinished upload is
   * aborted, or with `'park'` (the view ends) kept as a resumable session
   * when it has one.
   */
  close(mode?: 'park' | 'discard'): Promise<void>;
}

/** Where one entry's bytes go: a store and the upload's record in it. */
export interface StoredEntry {
  readonly store: UploadStore;
  readonly record: UploadRecord;
  /** The resumable session the bytes belong to (Inlet uploader), if any. */
  readonly resume?: ResumeHandle | undefined;
  /** The SHA-256 of the bytes stored so far, when a claimed session brings one. */
  readonly hash?: Hash | undefined;
}

interface ChannelRuntime {
  channel?: ChannelHandle;
  /** A join holds the entry's channel slot while its store upload is created. */
  joining?: boolean;
  stored?: StoredEntry;
  /** The channel went away and its upload waits as this resumable session: the entry may join again. */
  parked?: string;
}

/** The channels of one view's entries. */
export class ChannelSlots {
  readonly #runtime = new WeakMap<EntryState, ChannelRuntime>();
  readonly #max: number;
  #count = 0;
  /** Joins waiting for a slot, oldest first (see {@link waitForSlot}). */
  readonly #waiters: (() => void)[] = [];

  constructor(max = DEFAULT_MAX_UPLOAD_CHANNELS) {
    this.#max = max;
  }

  /** Channels open or joining. */
  get count(): number {
    return this.#count;
  }

  /** Whether every slot is taken (a join would be refused with `too_many_channels`). */
  get full(): boolean {
    return this.#count >= this.#max;
  }

  /**
   * Resolves when a slot is given back. The official client joins a channel
   * for every file of a batch at once; joins past the limit wait their turn
   * (each holds one of the connection's channels meanwhile) instead of failing.
   */
  waitForSlot(): Promise<void> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #freed(): void {
    this.#count--;
    this.#waiters.shift()?.();
  }

  /**
   * Checks a verified token against the entry it names and, when the join may
   * go ahead, reserves the entry's slot (joins that arrive together must
   * neither pass the limit nor bind twice). Returns the reason to refuse
   * otherwise.
   */
  reserve(
    token: UploadTokenData,
    topicRef: string,
    nonce: string,
    state: ConfigState | undefined,
  ): { entry: EntryState; limits: ChunkLimits } | { reason: string } {
    if (token.n !== nonce || token.e !== topicRef) return { reason: UPLOAD_REASONS.INVALID_TOKEN };
    const entry = state?.entries.find((e) => e.ref === token.e);
    if (!state || !entry || !entry.valid || !entry.preflighted || entry.cancelled || state.raw.external) {
      return { reason: UPLOAD_REASONS.DISALLOWED };
    }
    const runtime = this.#runtime.get(entry);
    if (runtime?.channel || runtime?.joining || (entry.received > 0 && !runtime?.parked) || entry.done) return { reason: UPLOAD_REASONS.ALREADY_REGISTERED };
    if (this.#count >= this.#max) return { reason: UPLOAD_REASONS.TOO_MANY_CHANNELS };
    this.#count++;
    this.#runtime.set(entry, { ...runtime, joining: true });
    const chunkSize = entry.chunkSize ?? (state.options.chunkSize === 'auto' ? autoChunkSize(entry.clientSize) : state.options.chunkSize);
    const limits = { chunkSize, chunkTimeout: entry.chunkTimeout ?? autoChunkTimeout(chunkSize), ...(entry.window ? { window: entry.window } : {}) };
    return { entry, limits };
  }

  /** Binds a joined channel to the entry whose slot {@link reserve} reserved. */
  attach(entry: EntryState, channel: ChannelHandle, stored: StoredEntry): void {
    this.#runtime.set(entry, { ...this.#runtime.get(entry), channel, stored, joining: false, parked: undefined });
  }

  /** The entry's channel went away and left its upload parked as session `id`. */
  park(entry: EntryState, id: string): void {
    const runtime = this.#runtime.get(entry);
    if (runtime && !runtime.channel) runtime.parked = id;
  }

  /** The resumable session an entry's last channel parked, if any. */
  parked(entry: EntryState): string | undefined {
    return this.#runtime.get(entry)?.parked;
  }

  /** Gives back a slot reserved for a join that failed. */
  unreserve(entry: EntryState): void {
    const runtime = this.#runtime.get(entry);
    if (!runtime?.joining) return;
    runtime.joining = false;
    this.#freed();
  }

  /** The channel of an entry went away. */
  detach(entry: EntryState): void {
    const runtime = this.#runtime.get(entry);
    if (runtime?.channel) {
      runtime.channel = undefined;
      this.#freed();
    }
  }

  channel(entry: EntryState): ChannelHandle | undefined {
    return this.#runtime.get(entry)?.channel;
  }

  stored(entry: EntryState): StoredEntry | undefined {
    return this.#runtime.get(entry)?.stored;
  }
}
