/**
 * The upload state of one view as plain data: configs by name (per owner:
 * the view, or a component that allowed its own) and ref, their
 * entries and errors, and the rules that change them (registration,
 * validation, the `too_many_files` count, failures). No I/O and no channels;
 * the manager drives it.
 */
import { randomBytes } from 'node:crypto';
import { InletError } from '../errors.js';
import { entryFromClient, resolveOptions, validateEntry, type EntryState, type ResolvedOptions } from './config.js';
import { ENTRY_ERRORS } from './reasons.js';
import type { UploadConfigOptions, UploadConfigView, UploadEntry, UploadErrorReason } from './socket-api.js';

/** One `allowUpload` config. */
export interface ConfigState {
  readonly name: string;
  readonly ref: string;
  readonly options: ResolvedOptions;
  readonly raw: UploadConfigOptions;
  entries: EntryState[];
  errors: [string, UploadErrorReason][];
  consumed: number;
  cid?: number;
  /** The component (cid) that allowed this config; none for the view's own. */
  readonly owner?: number;
  /** The socket its callbacks (`progress`, `writer`, `external`) get: the view's or the owning component's. */
  readonly socket?: unknown;
}

/** Configs are named per owner: the view and each component have their own names. */
function scoped(name: string, owner: number | undefined): string {
  return owner === undefined ? `:${name}` : `${owner}:${name}`;
}

let confCounter = 0;

/** A fresh config ref: random, and unique within the process. */
function newConfigRef(): string {
  return `phx-${randomBytes(6).toString('base64url').replace(/[-_]/g, 'x')}${(confCounter++).toString(36)}`;
}

/** The configs of one view. */
export class UploadState {
  readonly #byName = new Map<string, ConfigState>();
  readonly #byRef = new Map<string, ConfigState>();

  /**
   * Creates or replaces the config `name` of `owner` (a component's cid, or
   * none for the view), with a new ref each time. Throws while it has entries.
   */
  allow(name: string, options: UploadConfigOptions, owner?: number, socket?: unknown): ConfigState {
    const key = scoped(name, owner);
    const existing = this.#byName.get(key);
    if (existing && existing.entries.length > 0) throw new InletError('INLET_ERR_UPLOAD_ACTIVE_ENTRIES', `"${name}"`);
    if (existing) this.#byRef.delete(existing.ref);
    const state: ConfigState = {
      name,
      ref: newConfigRef(),
      options: resolveOptions(options),
      raw: options,
      entries: [],
      errors: [],
      consumed: 0,
      ...(owner !== undefined ? { owner, cid: owner } : {}),
      ...(socket !== undefined ? { socket } : {}),
    };
    this.#byName.set(key, state);
    this.#byRef.set(state.ref, state);
    return state;
  }

  /** Removes the config `name` of `owner`. Throws while it has entries. */
  disallow(name: string, owner?: number): void {
    const state = this.byName(name, owner);
    if (state.entries.length > 0) throw new InletError('INLET_ERR_UPLOAD_ACTIVE_ENTRIES', `"${name}"`);
    this.#byName.delete(scoped(name, owner));
    this.#byRef.delete(state.ref);
  }

  /** Forgets every config of `owner` (its component is gone); returns them. */
  dropOwner(owner: number): ConfigState[] {
    const dropped = [...this.#byName.values()].filter((s) => s.owner === owner);
    for (const state of dropped) {
      this.#byName.delete(scoped(state.name, owner));
      this.#byRef.delete(state.ref);
    }
    return dropped;
  }

  /** The config `name` of `owner`; throws when it was never allowed. */
  byName(name: string, owner?: number): ConfigState {
    const state = this.#byName.get(scoped(name, owner));
    if (!state) throw new InletError('INLET_ERR_UPLOAD_NOT_ALLOWED', `"${name}"`);
    return state;
  }

  /** The config a client ref names, if any. */
  byRef(ref: unknown): ConfigState | undefined {
    return typeof ref === 'string' ? this.#byRef.get(ref) : undefined;
  }

  configs(): IterableIterator<ConfigState> {
    return this.#byName.values();
  }

  /** The configs of `owner` (the view's own when none) as templates see them. */
  views(owner?: number): Record<string, UploadConfigView> {
    const out: Record<string, UploadConfigView> = {};
    for (const s of this.#byName.values()) {
      if (s.owner !== owner) continue;
      out[s.name] = {
        name: s.name,
        ref: s.ref,
        accept: s.options.accept,
        maxEntries: s.options.maxEntries,
        maxFileSize: s.options.maxFileSize,
        autoUpload: s.options.autoUpload,
        entries: s.entries.map(snapshot),
        errors: s.errors.map(([r, e]) => [r, e] as const),
      };
    }
    return out;
  }
}

/**
 * Registers the entries a client reported (change event or preflight):
 * unknown refs become entries, validated in order, at most `maxEntries +
 * maxExcessEntries` kept. With `maxEntries: 1`, a single new entry replaces
 * the old ones, which are handed to `replace` to be dropped. Returns true
 * when anything changed.
 */
export function putEntries(state: ConfigState, list: readonly unknown[], replace: (old: EntryState) => void): boolean {
  const known = new Set(state.entries.map((e) => e.ref));
  const fresh: EntryState[] = [];
  const cap = state.options.maxEntries + state.options.maxExcessEntries;
  for (const raw of list) {
    const entry = entryFromClient(raw, state);
    if (!entry || known.has(entry.ref)) continue;
    known.add(entry.ref);
    fresh.push(entry);
    if (fresh.length > cap) break;
  }
  if (fresh.length === 0) return false;
  if (state.options.maxEntries === 1 && fresh.length === 1) {
    for (const old of [...state.entries]) replace(old);
  }
  for (const entry of fresh) {
    if (state.entries.length >= cap) break;
    const reason = validateEntry(entry, state.options, state.raw.validator);
    if (reason) {
      entry.valid = false;
      entry.errors.push(reason);
      state.errors.push([entry.ref, reason]);
    }
    state.entries.push(entry);
  }
  recountTooMany(state);
  return true;
}

/** Adds or removes the config's `too_many_files` error to match its entry count. */
export function recountTooMany(state: ConfigState): void {
  const used = (state.options.maxEntriesMode === 'total' ? state.consumed : 0) + state.entries.length;
  const isTooMany = ([r, e]: [string, UploadErrorReason]) => r === state.ref && e === ENTRY_ERRORS.TOO_MANY_FILES;
  const has = state.errors.some(isTooMany);
  if (used > state.options.maxEntries && !has) state.errors.push([state.ref, ENTRY_ERRORS.TOO_MANY_FILES]);
  if (used <= state.options.maxEntries && has) state.errors = state.errors.filter((e) => !isTooMany(e));
}

/** Marks an entry failed with `reason` (once) and records it on the config. */
export function failEntry(state: ConfigState, entry: EntryState, reason: UploadErrorReason, message?: string): void {
  entry.valid = false;
  if (!entry.errors.includes(reason)) entry.errors.push(reason);
  if (message !== undefined) entry.errorMessage = message;
  if (!state.errors.some(([r, e]) => r === entry.ref && e === reason)) state.errors.push([entry.ref, reason]);
}

/** Removes an entry from its config (cancel or consume). Returns false if it was not there. */
export function removeEntry(state: ConfigState, entry: EntryState, why: 'cancel' | 'consumed'): boolean {
  const i = state.entries.indexOf(entry);
  if (i < 0) return false;
  state.entries.splice(i, 1);
  entry.cancelled = why === 'cancel';
  state.errors = state.errors.filter(([r]) => r !== entry.ref);
  if (why === 'consumed') state.consumed++;
  recountTooMany(state);
  return true;
}

/** A frozen copy of an entry for user code. */
export function snapshot(e: EntryState): UploadEntry {
  return Object.freeze({
    ref: e.ref,
    uploadRef: e.uploadRef,
    uploadConfig: e.uploadConfig,
    uuid: e.uuid,
    clientName: e.clientName,
    clientRelativePath: e.clientRelativePath,
    clientSize: e.clientSize,
    clientType: e.clientType,
    ...(e.clientLastModified !== undefined ? { clientLastModified: e.clientLastModified } : {}),
    ...(e.clientMeta !== undefined ? { clientMeta: e.clientMeta } : {}),
    progress: e.progress,
    preflighted: e.preflighted,
    done: e.done,
    cancelled: e.cancelled,
    valid: e.valid,
    errors: [...e.errors],
    ...(e.errorMessage !== undefined ? { errorMessage: e.errorMessage } : {}),
    ...(e.meta !== undefined ? { meta: { ...e.meta } } : {}),
  });
}
