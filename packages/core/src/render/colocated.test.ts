import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { InletError } from '../errors.js';
import { ColocatedRegistry, COLOCATED_GLOBAL } from '../live/colocated.js';
import { clientScript, clientStyle, hook } from './colocated.js';
import { html } from './template.js';
import { renderTemplate, treeToHtml } from './tree.js';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return e instanceof InletError ? e.code : String(e);
  }
  return 'no error';
};

/** Runs the bundle as a browser would, with `window` as its global. */
function load(registry: ColocatedRegistry): { hooks: Record<string, Record<string, unknown>>; scripts: [string, (ls: unknown) => void][] } {
  const window: Record<string, unknown> = {};
  runInNewContext(registry.bundle().text, { window });
  return window[COLOCATED_GLOBAL] as never;
}

// This file is TypeScript run through esbuild, like an app started with tsx:
// what the browser receives is what toString gives after that transform.
const Counter = hook('Counter', {
  count: 0,
  label: (n: number): string => `count ${n}`,
  mounted() {
    const bump = (by: number) => {
      this.count += by;
      this.el.textContent = this.label(this.count);
    };
    this.el.addEventListener('click', () => bump(1));
    bump(0);
  },
  async updated() {
    const reply = await this.pushEvent('sync', { count: this.count });
    this.el.dataset.synced = String(reply.ok);
  },
  destroyed: function () {
    this.count = -1;
  },
});

describe('colocated hooks', () => {
  it('serialises methods, arrow and function members and plain data into a working hook', async () => {
    const registry = new ColocatedRegistry();
    registry.add([Counter]);
    const { hooks } = load(registry);
    const listeners: (() => void)[] = [];
    const el = { textContent: '', dataset: {} as Record<string, string>, addEventListener: (_t: string, f: () => void) => listeners.push(f) };
    const instance = Object.assign(Object.create(null) as Record<string, unknown>, hooks.Counter, {
      el,
      pushEvent: async () => ({ ok: true }),
    }) as unknown as { mounted(): void; updated(): Promise<void>; destroyed(): void; count: number };
    instance.mounted();
    expect(el.textContent).toBe('count 0');
    listeners[0]?.();
    listeners[0]?.();
    expect(el.textContent).toBe('count 2');
    await instance.updated();
    expect(el.dataset.synced).toBe('true');
    instance.destroyed();
    expect(instance.count).toBe(-1);
  });

  it('renders as its name in phx-hook and reports itself to the render context', () => {
    const seen: string[] = [];
    const tree = renderTemplate(html`<div id="c" phx-hook="${Counter}"></div>`, { hook: (h) => seen.push(h.name) });
    expect(treeToHtml(tree)).toBe('<div id="c" phx-hook="Counter"></div>');
    expect(seen).toEqual(['Counter']);
  });

  it('inlines as a runtime hook script the client can evaluate', () => {
    const tricky = hook('Tricky', { text: '</script><b>', mounted() {} });
    const script = tricky.inlineScript({ nonce: 'n"1' }).value;
    expect(script.startsWith('<script data-phx-runtime-hook="Tricky" nonce="n&quot;1">')).toBe(true);
    expect(script.slice(0, -'</script>'.length)).not.toContain('</');
    const window: Record<string, () => { text: string }> = {};
    runInNewContext(script.replace(/^<script[^>]*>/, '').replace(/<\/script>$/, ''), { window });
    expect(window.phx_hook_Tricky?.().text).toBe('</script><b>');
  });

  it('client scripts run once with the LiveSocket', () => {
    const registry = new ColocatedRegistry();
    registry.add([
      clientScript('flag', (liveSocket: { flagged?: boolean }) => {
        liveSocket.flagged = true;
      }),
      clientScript('named', function setup(liveSocket: { named?: number }) {
        liveSocket.named = 1;
      }),
    ]);
    const ls: { flagged?: boolean; named?: number } = {};
    for (const [, run] of load(registry).scripts) run(ls);
    expect(ls).toEqual({ flagged: true, named: 1 });
  });

  it('refuses what cannot reach the browser, and two hooks under one name', () => {
    expect(code(() => hook('bad name', {}))).toBe('INLET_ERR_HOOK_SOURCE');
    expect(code(() => hook('Native', { mounted: Math.max }))).toBe('INLET_ERR_HOOK_SOURCE');
    expect(code(() => hook('Bound', { mounted: function () {}.bind(null) }))).toBe('INLET_ERR_HOOK_SOURCE');
    expect(code(() => hook('Data', { when: new Map() as never, mounted() {} }))).toBe('no error');
    expect(code(() => hook('Circular', { self: (() => { const o: Record<string, unknown> = {}; o.o = o; return o; })() }))).toBe('INLET_ERR_HOOK_SOURCE');
    const registry = new ColocatedRegistry();
    registry.add([hook('Twice', { mounted() {} })]);
    registry.add([hook('Twice', { mounted() {} })]);
    expect(registry.size).toBe(1);
    expect(code(() => registry.add([hook('Twice', { updated() {} })]))).toBe('INLET_ERR_HOOK_SOURCE');
    expect(code(() => registry.add([{ name: 'x' } as never]))).toBe('INLET_ERR_HOOK_SOURCE');
  });

  it('styles go into one stylesheet, linked only when there are some', () => {
    const registry = new ColocatedRegistry();
    registry.add([hook('OnlyHook', { mounted() {} })]);
    expect(registry.scriptTag()).not.toContain('<link');
    registry.add([clientStyle('a', '.a { color: red; }'), clientStyle('b', '.b { color: blue; }')]);
    expect(registry.scriptTag()).toMatch(/^<link rel="stylesheet" href="\/inlet\/colocated\.css\?v=[\w-]{16}"><script defer src=/);
    expect(registry.styles().text).toBe('/* a */\n.a { color: red; }\n\n/* b */\n.b { color: blue; }\n');
    expect(code(() => clientStyle('c', 3 as never))).toBe('INLET_ERR_HOOK_SOURCE');
  });

  it('the bundle is versioned by content; a hook first seen live is added with a warning', () => {
    const warnings: string[] = [];
    const registry = new ColocatedRegistry((m) => warnings.push(m));
    expect(registry.scriptTag()).toBe('');
    registry.add([Counter]);
    const first = registry.scriptTag();
    expect(first).toMatch(/^<script defer src="\/inlet\/colocated\.js\?v=[\w-]{16}"><\/script>$/);
    registry.seen(hook('Late', { mounted() {} }), false);
    expect(warnings).toEqual([]);
    registry.seen(hook('Later', { mounted() {} }), true);
    expect(warnings[0]).toMatch(/hook "Later" was first seen in a live render/);
    expect(registry.scriptTag()).not.toBe(first);
    expect(Object.keys(load(registry).hooks)).toEqual(['Counter', 'Late', 'Later']);
  });
});
