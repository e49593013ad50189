/**
 * The UploadWriter conformance cases. Every writer Inlet ships runs them, and
 * so can any writer an app writes: each case is a plain async function that
 * throws on failure, so it fits any test runner.
 *
 * @example
 * for (const c of writerConformanceCases({ create: () => new MyWriter(), read: (w) => … }))
 *   it(c.name, c.run)
 */
import { createHash, randomBytes } from 'node:crypto';
import type { UploadWriter } from '../uploads/writer.js';

/**
 * The writer a conformance run tests: how to make one and read back what it stored.
 * @example
 * writerConformanceCases({ create: () => new TmpFileWriter(dir), read: (w) => readFile(w.path) })
 */
export interface WriterUnderTest<W extends UploadWriter = UploadWriter> {
  /** A fresh writer. */
  create(): W | Promise<W>;
  /** The bytes a writer stored after `close('done')`. */
  read(writer: W): Buffer | Promise<Buffer>;
  /** Whether anything the writer stored is still there (temp files, parts). Default: not checked. */
  leftovers?(writer: W): boolean | Promise<boolean>;
}

/**
 * One conformance case: a name for the test and the check to run.
 * @example
 * for (const c of storeConformanceCases({ create: () => new MemoryStore() })) it(c.name, () => c.run())
 */
export interface ConformanceCase {
  readonly name: string;
  run(): Promise<void>;
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`writer conformance: ${message}`);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function writeAll(w: UploadWriter, data: Buffer, chunk: number): Promise<void> {
  for (let at = 0; at < data.length; at += chunk) await w.writeChunk(data.subarray(at, at + chunk));
}

/**
 * The cases every UploadWriter must pass.
 * @example
 * for (const c of writerConformanceCases({ create: () => new MyWriter(), read: (w) => w.bytes() })) it(c.name, () => c.run())
 */
export function writerConformanceCases<W extends UploadWriter>(subject: WriterUnderTest<W>): ConformanceCase[] {
  return [
    {
      name: 'stores chunks in order, byte-exact',
      async run() {
        const w = await subject.create();
        const data = randomBytes(300_001);
        await w.init();
        await writeAll(w, data, 65_536);
        await w.close('done');
        check(sha(await subject.read(w)) === sha(data), 'stored bytes differ from the bytes written');
      },
    },
    {
      name: 'stores one-byte and uneven chunks',
      async run() {
        const w = await subject.create();
        const data = randomBytes(1000);
        await w.init();
        await writeAll(w, data.subarray(0, 7), 1);
        await writeAll(w, data.subarray(7), 333);
        await w.close('done');
        check((await subject.read(w)).equals(data), 'uneven chunks were not stored exactly');
      },
    },
    {
      name: 'does not keep a reference to chunk buffers the caller reuses',
      async run() {
        const w = await subject.create();
        await w.init();
        const buf = Buffer.alloc(4, 1);
        await w.writeChunk(buf);
        buf.fill(2);
        await w.writeChunk(buf);
        await w.close('done');
        check((await subject.read(w)).equals(Buffer.from([1, 1, 1, 1, 2, 2, 2, 2])), 'a reused chunk buffer changed stored data');
      },
    },
    {
      name: 'meta() returns a plain object after close',
      async run() {
        const w = await subject.create();
        await w.init();
        await w.writeChunk(Buffer.from('abc'));
        await w.close('done');
        const meta = w.meta();
        check(typeof meta === 'object' && meta !== null && !Array.isArray(meta), 'meta() must return an object');
        JSON.stringify(meta, (_k, v: unknown) => (Buffer.isBuffer(v) ? undefined : v));
      },
    },
    {
      name: 'cancel leaves nothing behind',
      async run() {
        const w = await subject.create();
        await w.init();
        await w.writeChunk(randomBytes(10_000));
        await w.close('cancel');
        if (subject.leftovers) check(!(await subject.leftovers(w)), 'cancel left data behind');
      },
    },
    {
      name: 'an error close leaves nothing behind',
      async run() {
        const w = await subject.create();
        await w.init();
        await w.writeChunk(randomBytes(10_000));
        await w.close({ error: 'client went away' });
        if (subject.leftovers) check(!(await subject.leftovers(w)), 'error close left data behind');
      },
    },
    {
      name: 'an empty upload closes cleanly',
      async run() {
        const w = await subject.create();
        await w.init();
        await w.close('done');
        check((await subject.read(w)).length === 0, 'an empty upload stored bytes');
      },
    },
  ];
}
