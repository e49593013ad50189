/**
 * The render side of one view instance: renders the root template, keeps
 * the tree last sent to diff the next one against, and builds join replies,
 * HTML and diffs from it. Stream items are released once rendered.
 */
import { TRACING } from '../telemetry/channels.js';
import { DIFF, type WireObject, type WireValue } from '../render/keys.js';
import { releaseStreamEntries, renderTemplate, treeToHtml, type RList, type RNode } from '../render/tree.js';
import { diff, toWire } from '../render/wire.js';
import type { ChildRenderer } from './children.js';
import type { Components } from './component.js';
import type { ExtensionInstance } from './extensions.js';
import type { PendingEffects } from './pending-effects.js';
import { LiveViewSocket, type Effects } from './socket.js';
import type { LiveView, RenderMeta } from './view.js';

/** What rendering needs from its view instance. */
export interface RenderHost {
  readonly id: string;
  readonly view: LiveView<object>;
  readonly csrfToken: string;
  readonly connected: boolean;
  readonly socket: LiveViewSocket<object>;
  readonly components: Components;
  readonly effects: PendingEffects;
  readonly extensions: ReadonlyMap<string, ExtensionInstance>;
  readonly children: ChildRenderer | undefined;
  url(): URL;
}

export class InstanceRender {
  readonly #host: RenderHost;
  #tree?: RNode;
  /** Stream lists of the last render, released once their diff is produced. */
  #streamLists: RList[] = [];

  constructor(host: RenderHost) {
    this.#host = host;
  }

  /** The full render for a join reply: rendered tree plus title, events and components. */
  async full(): Promise<WireObject> {
    const h = this.#host;
    const effects = h.effects.take();
    const tree = this.#renderRoot();
    await h.components.settle();
    const out = toWire(tree) as WireObject;
    const c = h.components.render(true);
    if (c) out[DIFF.COMPONENTS] = c;
    if (h.effects.title !== undefined) out[DIFF.TITLE] = h.effects.title;
    if (effects.events.length > 0) out[DIFF.EVENTS] = effects.events;
    this.#tree = tree;
    this.#releaseStreams();
    return out;
  }

  /** The full HTML (HTTP render): mount must have run. */
  async html(): Promise<{ html: string; title?: string }> {
    const h = this.#host;
    h.effects.take();
    const tree = this.#renderRoot();
    await h.components.settle();
    h.components.render(true);
    await h.children?.settle();
    const html = treeToHtml(tree, (cid) => h.components.tree(cid));
    this.#releaseStreams();
    return { html, title: h.effects.title };
  }

  /**
   * Stream items are in the client's DOM now: the server forgets them (the
   * view's pending changes, after its components rendered too, since a
   * component may render a stream it was given, and the rendered entries).
   */
  #releaseStreams(): void {
    LiveViewSocket.pruneStreams(this.#host.socket);
    releaseStreamEntries(this.#streamLists);
    this.#streamLists = [];
    this.#host.components.releaseStreams();
  }

  /** The full HTML of the current state, from the trees last sent (tests, conformance). */
  currentHtml(): string {
    return this.#tree ? treeToHtml(this.#tree, (cid) => this.#host.components.tree(cid)) : '';
  }

  #renderRoot(): RNode {
    return TRACING.render.traceSync(() => this.#renderRootNow(), { view: this.#host.id });
  }

  #renderRootNow(): RNode {
    const h = this.#host;
    const liveAction = h.socket.liveAction;
    let meta: RenderMeta = {
      csrfToken: h.csrfToken,
      uploads: {},
      connected: h.connected,
      url: h.url(),
      ...(liveAction !== undefined ? { liveAction } : {}),
    };
    for (const ext of h.extensions.values()) if (ext.renderMeta) meta = { ...meta, ...ext.renderMeta() };
    const template = h.view.render(h.socket.assigns, meta);
    return renderTemplate(template, h.components.context(this.#streamLists));
  }

  /** The diff of what changed since the last render, with components, title, events and reply. */
  async diff(effects: Effects, forceRender: boolean): Promise<WireObject | undefined> {
    const h = this.#host;
    let out: WireObject | undefined;
    if (forceRender || effects.changed.size > 0 || !this.#tree) {
      const tree = this.#renderRoot();
      await h.components.settle();
      const d: WireValue | undefined = this.#tree ? diff(this.#tree, tree) : toWire(tree);
      this.#tree = tree;
      if (d !== undefined) out = d as WireObject;
    }
    if (h.components.dirty) {
      const c = h.components.render(false);
      if (c) (out ??= {})[DIFF.COMPONENTS] = c;
    }
    if (effects.title !== undefined) (out ??= {})[DIFF.TITLE] = effects.title;
    if (effects.events.length > 0) (out ??= {})[DIFF.EVENTS] = effects.events;
    if (effects.reply !== undefined) (out ??= {})[DIFF.REPLY] = effects.reply as WireObject;
    this.#releaseStreams();
    return out;
  }
}
