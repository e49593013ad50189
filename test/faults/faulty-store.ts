/**
 * A chunk-receiver store for the fault suites whose behaviour the client picks
 * through the declared content type: `x-inlet/transient-N` answers 503 for
 * the first N writes of an upload, `x-inlet/permanent-N` breaks at write N.
 * Every other upload goes straight to a DiskStore.
 */
import { DiskStore, TransientStoreError, type ChunkBody, type UploadRecord, type UploadStore } from 'inletjs';
import { count } from './support.js';

/** A receiver store whose behaviour the client picks through the declared content type. */
export class FaultyStore implements UploadStore {
  readonly inner: DiskStore;
  readonly capabilities = new Set(['partial'] as const);
  readonly #writes = new Map<string, number>();
  readonly #injected: Map<string, number>;

  /** `injected` counts the faults this store injects, by kind. */
  constructor(dir: string, injected: Map<string, number>) {
    this.inner = new DiskStore({ dir });
    this.#injected = injected;
  }
  create(s: UploadRecord): Promise<void> {
    return this.inner.create(s);
  }
  async write(s: UploadRecord, offset: number, chunk: ChunkBody): Promise<number> {
    const n = (this.#writes.get(s.id) ?? 0) + 1;
    this.#writes.set(s.id, n);
    const m = /^x-inlet\/(transient|permanent)-(\d+)$/.exec(s.contentType ?? '');
    if (m?.[1] === 'transient' && n <= Number(m[2])) {
      count(this.#injected, 'receiver: 503');
      // Drain the body as a real store would have started to.
      for await (const _ of chunk) void _;
      throw new TransientStoreError('injected: storage briefly unavailable');
    }
    if (m?.[1] === 'permanent' && n === Number(m[2])) {
      count(this.#injected, 'receiver: store broke');
      throw new Error('injected: store broke');
    }
    return this.inner.write(s, offset, chunk);
  }
  complete(s: UploadRecord): Promise<Record<string, unknown>> {
    this.#writes.delete(s.id);
    return this.inner.complete(s);
  }
  abort(s: UploadRecord): Promise<void> {
    this.#writes.delete(s.id);
    return this.inner.abort(s);
  }
}
