/**
 * The TSDoc audit: every public export of every package (each entry point in
 * each package.json's `exports`, mapped from dist/ to src/) has a doc
 * comment, and every exported function and class has an `@example`.
 * Interfaces, types and constants still without an `@example` are listed in
 * tsdoc-pending.txt: a new export cannot join that list silently, and the
 * list cannot grow.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const pendingFile = fileURLToPath(new URL('./tsdoc-pending.txt', import.meta.url));
/** The pending list's size (its entries still lack an @example): it may only shrink. */
const PENDING_AT_MOST = 0;

interface Export {
  /** `<package>/<entry> <name>`, e.g. `inletjs/testing mountLive`. */
  readonly id: string;
  readonly kind: 'callable' | 'other';
  readonly documented: boolean;
  readonly example: boolean;
}

/** Each package's entry points as TypeScript sources, named `<package>` or `<package>/<subpath>`. */
function entryPoints(): Map<string, string> {
  const entries = new Map<string, string>();
  for (const dir of readdirSync(join(repo, 'packages'))) {
    let pkg: { name: string; exports?: Record<string, { types?: string } | string> };
    try {
      pkg = JSON.parse(readFileSync(join(repo, 'packages', dir, 'package.json'), 'utf8')) as typeof pkg;
    } catch {
      continue;
    }
    for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
      const types = typeof target === 'string' ? target : target.types;
      // The browser client ships hand-written declarations; the TypeScript packages map dist/*.d.ts to src/*.ts.
      if (!types?.startsWith('./dist/') || !types.endsWith('.d.ts')) continue;
      entries.set(subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, join(repo, 'packages', dir, 'src', types.slice('./dist/'.length, -'.d.ts'.length) + '.ts'));
    }
  }
  return entries;
}

function audit(): Export[] {
  const entries = entryPoints();
  const program = ts.createProgram([...entries.values()], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const found: Export[] = [];
  for (const [entry, file] of entries) {
    const source = program.getSourceFile(file);
    const module = source && checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`${entry}: ${file} is not a module`);
    for (const exported of checker.getExportsOfModule(module)) {
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const text = ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
      found.push({
        id: `${entry} ${exported.name}`,
        kind: symbol.flags & (ts.SymbolFlags.Function | ts.SymbolFlags.Class) ? 'callable' : 'other',
        documented: text.length > 0,
        example: symbol.getJsDocTags(checker).some((t) => t.name === 'example'),
      });
    }
  }
  return found;
}

describe('TSDoc on every public export', () => {
  const exports = audit();
  const pending = new Set(
    readFileSync(pendingFile, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#')),
  );

  it('covers every package entry point', () => {
    const entries = new Set(exports.map((e) => e.id.split(' ')[0]));
    for (const name of ['inletjs', 'inletjs/node', 'inletjs/http', 'inletjs/testing', '@inletjs/s3', '@inletjs/redis', '@inletjs/express', '@inletjs/fastify', '@inletjs/hono', '@inletjs/koa', '@inletjs/otel']) {
      expect(entries, name).toContain(name);
    }
    expect(exports.length).toBeGreaterThan(300);
  });

  it('every export has a doc comment', () => {
    expect(exports.filter((e) => !e.documented).map((e) => e.id)).toEqual([]);
  });

  it('every exported function and class has an @example', () => {
    expect(exports.filter((e) => e.kind === 'callable' && !e.example).map((e) => e.id)).toEqual([]);
  });

  it('interfaces, types and constants without an @example are the listed ones, and only those', () => {
    const missing = exports.filter((e) => e.kind === 'other' && !e.example).map((e) => e.id);
    expect(missing.filter((id) => !pending.has(id)), 'new exports need an @example').toEqual([]);
    // Entries that gained an example (or went away) may linger until someone prunes the list: parallel
    // work adding examples must not turn the suite red. The list never covers more than it lists.
    expect(pending.size).toBeLessThanOrEqual(PENDING_AT_MOST);
  });
});
