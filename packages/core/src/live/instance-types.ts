/**
 * What a view instance is given (its options and the app's child-view
 * services) and what its callbacks end with (the outcome the channel reports).
 */
import type { WireObject } from '../render/keys.js';
import type { AppServices, ViewExtension } from './extensions.js';
import type { PubSub } from './pubsub.js';
import type { OnMount, Router } from './router.js';
import type { Signer } from './tokens.js';
import type { LiveView, Session } from './view.js';

/** What a view needs to render child views (the app provides it). */
export interface ChildServices {
  readonly signer: Signer;
  readonly tokenTtlMs: number;
  viewKey(view: LiveView<object>): string;
}

/** How a callback ended, for the channel to report. */
export interface Outcome {
  /** The diff to send, if anything changed. */
  diff?: WireObject;
  live_patch?: { to: string; kind: 'push' | 'replace' };
  live_redirect?: { to: string; kind: 'push' | 'replace'; flash?: string };
  redirect?: { to: string; flash?: string };
}

export interface InstanceOptions {
  readonly id: string;
  readonly view: LiveView<object>;
  readonly url: URL;
  readonly session: Session;
  readonly csrfToken: string;
  /** The socket's connect params (absent in the HTTP render). */
  readonly connectParams?: Readonly<Record<string, string>>;
  /** The join's `params` (`socket.connectParams`; absent in the HTTP render). */
  readonly joinParams?: Readonly<Record<string, unknown>>;
  readonly connected: boolean;
  /** The route's live action. */
  readonly liveAction?: string;
  /** The live session's hooks, run before `mount`. */
  readonly onMount?: readonly OnMount[];
  readonly router: Router<LiveView<object>>;
  readonly pubsub: PubSub;
  /** What the app offers extensions (signer, log). */
  readonly app: AppServices;
  /** Per-view extensions (uploads, …), each given its own state in this instance. */
  readonly extensions?: readonly ViewExtension[];
  /** Signs flash for navigation; absent in the HTTP render. */
  readonly signFlash?: (flash: Record<string, string>) => string;
  /** Called with unsolicited outcomes (from handleInfo, timers, uploads). */
  readonly push?: (outcome: Outcome) => void;
  /** Called when a callback outside a client request throws. */
  readonly crash?: (error: unknown) => void;
  /** Lets the view render child views ({@link liveRender}). */
  readonly children?: ChildServices;
  /** A child view: `mount` gets no params and `handleParams` never runs. */
  readonly child?: boolean;
  /** A child view: patches are the root view's, so they go to it. */
  readonly forwardPatch?: (to: string, replace: boolean) => void;
  /** A child view: delivers `socket.sendParent` messages to the parent's `handleInfo`. */
  readonly sendParent?: (info: unknown) => void;
}
