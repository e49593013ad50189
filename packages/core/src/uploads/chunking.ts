/**
 * How a config's entries are cut into chunks: the size the official
 * uploader is told for a preflight, and the size, timeout and window the
 * Inlet uploader gets per entry. Sizes always fit the config's store.
 */
import { autoChunkSize, autoChunkTimeout, MAX_CHUNK_SIZE, type EntryState } from './config.js';
import { DEFAULT_INLET_WINDOW, INLET_AUTO_CHUNK_SIZE, MAX_INLET_WINDOW } from './inlet-wire.js';
import type { ConfigState } from './state.js';
import type { UploadStore } from './store.js';

/** Chunk size and timeout of one preflight's reply. */
export interface Chunking {
  readonly chunkSize: number;
  readonly chunkTimeout: number;
}

/**
 * The official uploader's chunking for a preflight whose largest entry is
 * `largest` bytes (one size per reply, as the client reads it from `config`).
 *
 * @example
 * const { chunkSize, chunkTimeout } = officialChunking(state, 100 * 1024 * 1024)
 */
export function officialChunking(state: ConfigState, largest: number): Chunking {
  const chunkSize = fitChunkSize(state.options.chunkSize === 'auto' ? autoChunkSize(largest) : state.options.chunkSize, storeOf(state));
  const chunkTimeout = state.options.chunkTimeout === 'auto' ? autoChunkTimeout(chunkSize) : state.options.chunkTimeout;
  return { chunkSize, chunkTimeout };
}

/**
 * Sets the Inlet uploader's chunk size, chunk timeout and window on `entry`:
 * the window holds at least two chunks in flight, whatever chunk size the
 * store needs, and at most {@link MAX_INLET_WINDOW} bytes otherwise.
 *
 * @example
 * applyInletChunking(state, entry) // entry.chunkSize, entry.chunkTimeout, entry.window
 */
export function applyInletChunking(state: ConfigState, entry: EntryState): void {
  entry.chunkSize = fitChunkSize(state.options.chunkSize === 'auto' ? INLET_AUTO_CHUNK_SIZE : state.options.chunkSize, storeOf(state));
  entry.chunkTimeout = state.options.chunkTimeout === 'auto' ? autoChunkTimeout(entry.chunkSize) : state.options.chunkTimeout;
  entry.window = Math.max(Math.min(MAX_INLET_WINDOW, state.raw.window ?? DEFAULT_INLET_WINDOW), 2 * entry.chunkSize);
}

/** The store a config names (a `writer` takes precedence and has no size rules). */
function storeOf(state: ConfigState): UploadStore | undefined {
  return state.raw.writer ? undefined : state.raw.store;
}

/**
 * A chunk size the config's store accepts: at least its `minWriteBytes` (S3
 * parts are 5 MiB but for the last), at most its `maxWriteBytes`, and never
 * more than a socket frame may carry.
 */
function fitChunkSize(size: number, store: UploadStore | undefined): number {
  let fitted = size;
  if (store?.minWriteBytes !== undefined) fitted = Math.max(fitted, store.minWriteBytes);
  if (store?.maxWriteBytes !== undefined) fitted = Math.min(fitted, store.maxWriteBytes);
  return Math.min(fitted, MAX_CHUNK_SIZE);
}
