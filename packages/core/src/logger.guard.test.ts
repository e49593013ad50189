/**
 * One logging path: no shipped file of any package (server or browser) calls
 * `console.*` or `process.emitWarning`. Comments and TSDoc examples may show
 * them; code may not. ESLint's `no-console` covers the TypeScript packages;
 * this test also covers the browser client's JavaScript.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const packagesDir = fileURLToPath(new URL('../../', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' || d.name === 'dist' ? [] : sources(path);
    return /\.(ts|js|mjs)$/.test(d.name) && !/\.(test|test-d)\.ts$|\.d\.ts$/.test(d.name) ? [path] : [];
  });
}

/** `console.x` and `process.emitWarning` uses in `text`, as `line: code`. */
function consoleUses(fileName: string, text: string): string[] {
  const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, fileName.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const [object, property] = [node.expression.text, node.name.text];
      if (object === 'console' || (object === 'process' && property === 'emitWarning')) {
        found.push(`${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${node.getText()}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('no console in library code', () => {
  it('finds console calls in code, not in comments', () => {
    const sample = "/** @example console.log(x) */\nexport const f = () => { console.warn('x'); process.emitWarning('y'); };\n// console.error(z)\n";
    expect(consoleUses('sample.ts', sample)).toEqual(['2: console.warn', '2: process.emitWarning']);
  });

  it('no package source calls console.* or process.emitWarning', () => {
    const files = readdirSync(packagesDir).flatMap((name) => {
      try {
        return sources(join(packagesDir, name, 'src'));
      } catch {
        return [];
      }
    });
    expect(files.length).toBeGreaterThan(50);
    expect(files.some((f) => f.includes(join('client', 'src')))).toBe(true);
    const uses = files.flatMap((f) => consoleUses(f, readFileSync(f, 'utf8')).map((u) => `${relative(packagesDir, f)}:${u}`));
    expect(uses).toEqual([]);
  });
});
