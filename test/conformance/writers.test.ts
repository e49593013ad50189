/**
 * Every upload writer Inlet ships passes the shared writer conformance cases.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryWriter, TmpFileWriter } from 'inletjs';
import { writerConformanceCases } from 'inletjs/testing';
import { describe, it } from 'vitest';

const dir = await mkdtemp(join(tmpdir(), 'inlet-writer-'));

describe('TmpFileWriter', () => {
  for (const c of writerConformanceCases({
    create: () => new TmpFileWriter(dir),
    read: (w) => readFile(w.path),
    leftovers: (w) => existsSync(w.path),
  })) {
    it(c.name, c.run);
  }
});

describe('MemoryWriter', () => {
  for (const c of writerConformanceCases({
    create: () => new MemoryWriter(),
    read: (w) => w.meta().data as Buffer,
    leftovers: (w) => w.chunks.length > 0,
  })) {
    it(c.name, c.run);
  }
});
