/**
 * Child live views (Phoenix's `live_render`): a view rendered inside
 * another, with its own state, events and channel. The parent's render only
 * places the child's container; over the socket the child joins on its own
 * topic, and in the HTTP render its content is rendered in place.
 *
 * Markup (protocol.md §2.1, static.ex):
 * - HTTP render, child: `data-phx-session=""` (not joinable from the dead
 *   page), a static token, `data-phx-parent-id`, and the child's content.
 * - HTTP render, sticky: a real session token, a static token, `data-phx-sticky`.
 * - Connected render: an empty container with a session token and
 *   `data-phx-static=""`; the client joins it and the child renders itself.
 */
import { InletError } from '../errors.js';
import type { ChildViewMarker, Dyn, RNode } from '../render/tree.js';
import { containerTags, TOKEN_PURPOSE, type SessionToken } from './markup.js';
import type { Container } from './router.js';
import type { Signer } from './tokens.js';
import type { LiveView, Session } from './view.js';

/**
 * Options of {@link liveRender}.
 *
 * @example
 * const chat: LiveRenderOptions = { id: 'chat', session: { room: 'lobby' }, container: ['section', { class: 'chat' }] }
 * html`<main>${liveRender(Chat, chat)}</main>`
 */
export interface LiveRenderOptions {
  /** The child's DOM id, unique in the page; also its topic (`lv:<id>`). Required. */
  readonly id: string | number;
  /** Added to the parent's session for the child's `mount`. Must be JSON (it is signed into the page). */
  readonly session?: Readonly<Record<string, unknown>>;
  /**
   * Keep the child alive across live navigation: it joins as a root view, is
   * not tied to the parent, and the client moves its element into each new
   * page's view. Render it at the same place in every view of a live session
   * (typically a shared layout function).
   */
  readonly sticky?: boolean;
  /** The child's root element, e.g. `['section', { class: 'chat' }]`. Default: the view's own, else `div`. */
  readonly container?: Container;
  /**
   * When the child crashes (in `mount` or later), the parent crashes too, as
   * when a Phoenix child links itself to its parent. A parent crash always
   * ends its children.
   */
  readonly link?: boolean;
}

/** A child view placed in a template. */
export interface ChildPlacement extends ChildViewMarker {
  readonly view: LiveView<object>;
  readonly id: string;
  readonly session: Readonly<Record<string, unknown>>;
  readonly sticky: boolean;
  readonly link: boolean;
  readonly container?: Container;
}

/**
 * Renders a live view inside another one (Phoenix's `live_render`).
 *
 * @example
 * render: ({ room }) => html`<main>
 *   ${liveRender(Chat, { id: 'chat', session: { room } })}
 *   ${liveRender(Player, { id: 'player', sticky: true })}
 * </main>`
 */
export function liveRender(view: LiveView<never, never>, options: LiveRenderOptions): ChildPlacement {
  if (typeof (view as { render?: unknown } | undefined)?.render !== 'function') {
    throw new InletError('INLET_ERR_VIEW_CHILD', 'liveRender() takes a view made with createLiveView().');
  }
  const id = options?.id;
  if ((typeof id !== 'string' && typeof id !== 'number') || String(id).length === 0) {
    throw new InletError('INLET_ERR_VIEW_CHILD', 'liveRender() needs an `id` (the DOM id of the child, unique in the page).');
  }
  const session = options.session ?? {};
  if (typeof session !== 'object' || session === null || Array.isArray(session)) {
    throw new InletError('INLET_ERR_VIEW_CHILD', '`session` must be an object.');
  }
  return {
    inletChildView: true,
    view: view,
    id: String(id),
    session,
    sticky: options.sticky === true,
    link: options.link === true,
    ...(options.container ? { container: options.container } : {}),
  };
}

/** What a view offers the children it renders. */
export interface ChildHost {
  /** The parent view's id. */
  readonly id: string;
  readonly connected: boolean;
  /** The parent's session; a child's session is this plus its own. */
  readonly session: Session;
  /** The parent's current URL. */
  url(): URL;
  readonly signer: Signer;
  readonly tokenTtlMs: number;
  viewKey(view: LiveView<object>): string;
  /** HTTP render only: mounts and renders a child, returning its inner HTML. */
  renderDead(placement: ChildPlacement, session: Session): Promise<string>;
}

interface PendingDead {
  readonly placement: ChildPlacement;
  readonly session: Session;
  readonly dyns: Dyn[];
}

/** The child views one view renders. */
export class ChildRenderer {
  readonly #host: ChildHost;
  /** Connected renders: the last token per child id (unchanged data reuses it, so diffs stay quiet). */
  readonly #tokens = new Map<string, { readonly key: string; readonly token: string }>();
  #pending: PendingDead[] = [];

  constructor(host: ChildHost) {
    this.#host = host;
  }

  /** The container of a child, as a dynamic of the parent's tree. */
  place(marker: ChildViewMarker): Dyn {
    const placement = marker as ChildPlacement;
    const host = this.#host;
    const session: Session = { ...host.session, ...placement.session };
    const container = placement.container ?? placement.view.container;
    const attrs: [string, string | true][] = [['id', placement.id]];
    if (!host.connected) {
      const stat = host.signer.sign(TOKEN_PURPOSE.STATIC, { id: placement.id }, host.tokenTtlMs);
      if (placement.sticky) attrs.push(['data-phx-session', this.#token(placement, session)], ['data-phx-static', stat], ['data-phx-sticky', true]);
      else attrs.push(['data-phx-session', ''], ['data-phx-static', stat], ['data-phx-parent-id', host.id]);
      const tags = containerTags(container, attrs);
      const dyns: Dyn[] = [''];
      this.#pending.push({ placement, session, dyns });
      const node: RNode = { kind: 'node', statics: [tags.open, tags.close], dyns };
      return node;
    }
    attrs.push(['data-phx-session', this.#token(placement, session)], ['data-phx-static', '']);
    attrs.push(placement.sticky ? ['data-phx-sticky', true] : ['data-phx-parent-id', host.id]);
    const tags = containerTags(container, attrs);
    return tags.open + tags.close;
  }

  #token(placement: ChildPlacement, session: Session): string {
    const host = this.#host;
    const data: SessionToken = {
      id: placement.id,
      s: session,
      v: host.viewKey(placement.view),
      ...(placement.sticky ? { st: 1 as const } : { p: host.id }),
      ...(placement.link && !placement.sticky ? { lk: 1 as const } : {}),
      u: host.url().href,
    };
    if (!host.connected) return host.signer.sign(TOKEN_PURPOSE.SESSION, data, host.tokenTtlMs);
    // The URL is left out of the key: a patch of the parent must not re-send
    // its children's containers (the client would reset their attributes).
    const key = JSON.stringify({ ...data, u: undefined });
    const cached = this.#tokens.get(placement.id);
    if (cached?.key === key) return cached.token;
    const token = host.signer.sign(TOKEN_PURPOSE.SESSION, data, host.tokenTtlMs);
    this.#tokens.set(placement.id, { key, token });
    return token;
  }

  /** HTTP render: renders every child placed since the last call into its container. */
  async settle(): Promise<void> {
    while (this.#pending.length > 0) {
      const pending = this.#pending;
      this.#pending = [];
      const ids = new Set<string>();
      for (const p of pending) {
        if (ids.has(p.placement.id)) throw new InletError('INLET_ERR_VIEW_CHILD', `two child views share the id "${p.placement.id}".`);
        ids.add(p.placement.id);
      }
      const html = await Promise.all(pending.map((p) => this.#host.renderDead(p.placement, p.session)));
      pending.forEach((p, i) => (p.dyns[0] = html[i] as string));
    }
  }
}
