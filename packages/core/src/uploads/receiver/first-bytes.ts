/**
 * Reading the head of a write's body without losing it: the receiver checks
 * an upload's first bytes (content sniffing) before any of them are stored.
 */
import type { ChunkBody } from '../store.js';

/**
 * Reads up to `max` bytes from the start of `body` (fewer if it is shorter)
 * and returns them with a body that yields the same bytes as `body` did.
 * When that body will not be read, `release()` lets go of the original (so
 * the request's remaining bytes can be discarded).
 *
 * @example
 * const { head, body: rest } = await readHead(body, 4096)
 */
export async function readHead(body: ChunkBody, max: number): Promise<{ head: Buffer; body: ChunkBody; release(): Promise<void> }> {
  const iterator = body[Symbol.asyncIterator]();
  const taken: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size < max) {
    const next = await iterator.next();
    if (next.done === true) {
      done = true;
      break;
    }
    taken.push(next.value);
    size += next.value.length;
  }
  const head = Buffer.concat(taken);
  return {
    head: head.subarray(0, max),
    release: async () => {
      await iterator.return?.();
    },
    body: {
      length: body.length,
      async *[Symbol.asyncIterator]() {
        if (head.length > 0) yield head;
        if (done) return;
        for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) yield next.value;
      },
    },
  };
}

/** A {@link ChunkBody} of `length` bytes: `body` without its first `skip` bytes. */
export function skipBytes(body: ChunkBody, skip: number, length: number): ChunkBody {
  if (skip === 0 && length === body.length) return body;
  return {
    length,
    async *[Symbol.asyncIterator]() {
      let toSkip = skip;
      for await (const piece of body) {
        if (toSkip >= piece.length) {
          toSkip -= piece.length;
          continue;
        }
        yield toSkip > 0 ? piece.subarray(toSkip) : piece;
        toSkip = 0;
      }
    },
  };
}

/**
 * `body`, with `observe` called on every piece the store pulls from it (in
 * order, before the store sees it), so a hash follows what is stored.
 */
export function observeBody(body: ChunkBody, observe: (piece: Uint8Array) => void): ChunkBody {
  return {
    length: body.length,
    async *[Symbol.asyncIterator]() {
      for await (const piece of body) {
        observe(piece);
        yield piece;
      }
    },
  };
}
