/**
 * The receiver's streaming SHA-256 of an upload, kept as its bytes are
 * stored. Two kinds: on one node, node:crypto's native hash held in memory
 * (fast; its state cannot leave the process); across nodes, hash-wasm's
 * SHA-256, whose state (116 bytes) is saved into the shared upload record at
 * every commit and loaded by whichever node stores the next chunk, so
 * `meta.sha256` is right whatever node completes the upload.
 */
import { createHash, type Hash } from 'node:crypto';

/** A SHA-256 in progress. */
export interface RunningHash {
  update(piece: Uint8Array): void;
  /** An independent copy at the same point. */
  fork(): Promise<RunningHash>;
  /** The hex digest of what was hashed so far (the hash is not usable afterwards). */
  digest(): string;
  /** The state as a string that {@link resumeSavedHash} takes, or undefined when it cannot leave the process. */
  save(): string | undefined;
}

class NativeHash implements RunningHash {
  constructor(readonly hash: Hash = createHash('sha256')) {}
  update(piece: Uint8Array): void {
    this.hash.update(piece);
  }
  async fork(): Promise<RunningHash> {
    return new NativeHash(this.hash.copy());
  }
  digest(): string {
    return this.hash.digest('hex');
  }
  save(): undefined {
    return undefined;
  }
}

interface WasmHasher {
  init(): WasmHasher;
  update(data: Uint8Array): WasmHasher;
  digest(format: 'hex'): string;
  save(): Uint8Array;
  load(state: Uint8Array): WasmHasher;
}

let wasmFactory: Promise<() => Promise<WasmHasher>> | undefined;
/** hash-wasm is loaded the first time a cluster upload needs it (single-node servers never load it). */
function createWasm(): Promise<WasmHasher> {
  wasmFactory ??= import('hash-wasm').then((m) => m.createSHA256 as () => Promise<WasmHasher>);
  return wasmFactory.then((create) => create());
}

class SavableHash implements RunningHash {
  constructor(readonly hasher: WasmHasher) {}
  update(piece: Uint8Array): void {
    this.hasher.update(piece);
  }
  async fork(): Promise<RunningHash> {
    const copy = await createWasm();
    copy.load(this.hasher.save());
    return new SavableHash(copy);
  }
  digest(): string {
    return this.hasher.digest('hex');
  }
  save(): string {
    return Buffer.from(this.hasher.save()).toString('base64');
  }
}

/**
 * A new SHA-256: native for `kind: 'local'`, savable for `kind: 'savable'`.
 *
 * @example
 * const h = await startHash('savable'); h.update(bytes); record.hash = h.save();
 */
export async function startHash(kind: 'local' | 'savable'): Promise<RunningHash> {
  if (kind === 'local') return new NativeHash();
  return new SavableHash((await createWasm()).init());
}

/**
 * Continues a savable hash from its saved state; undefined for a state that
 * is not one (it was damaged, or written by something else).
 *
 * @example
 * const h = await resumeSavedHash(record.store.hash);
 */
export async function resumeSavedHash(saved: string): Promise<RunningHash | undefined> {
  const hasher = await createWasm();
  try {
    hasher.load(Buffer.from(saved, 'base64'));
  } catch {
    return undefined;
  }
  return new SavableHash(hasher);
}
