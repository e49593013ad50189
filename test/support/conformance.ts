/**
 * Checks every diff a view sends: the official client's merge of the join
 * reply and all later diffs must produce the same HTML as the server's own
 * full render of its new state.
 */
import type { LiveTestView, ServerFrame } from 'inletjs/testing';
import { OfficialRendered } from './official-rendered.js';

interface LiveChannelLike {
  instance: { currentHtml(): string };
}

export interface ConformanceLog {
  /** Diffs checked so far. */
  checked: number;
  /** Mismatches: the official client's HTML vs the server's. */
  mismatches: { official: string; server: string }[];
  /** Call after every step (frames are checked as they arrive; this awaits the async import). */
  settle(): Promise<void>;
}

/** Returns an `onFrame` observer and its log; call `attach(view)` once the view is mounted. */
export function conformanceObserver(): { onFrame: (f: ServerFrame) => void; attach: (view: LiveTestView) => void; log: ConformanceLog } {
  let view: LiveTestView | undefined;
  let official: Promise<OfficialRendered> | undefined;
  let chain: Promise<void> = Promise.resolve();
  const pending: ServerFrame[] = [];
  const log: ConformanceLog = { checked: 0, mismatches: [], settle: () => chain };

  const serverHtml = (): string => {
    const channel = view?.connection.channels.get(view.topic) as unknown as LiveChannelLike | undefined;
    return channel?.instance.currentHtml() ?? '';
  };

  const check = (frame: ServerFrame): void => {
    const [, , topic, event, payload] = frame;
    if (!topic.startsWith('lv:')) return;
    let diff: Record<string, unknown> | undefined;
    let isJoin = false;
    if (event === 'phx_reply') {
      const response = (payload as { response?: Record<string, unknown> }).response ?? {};
      if (response.rendered) {
        isJoin = true;
        diff = response.rendered as Record<string, unknown>;
      } else diff = response.diff as Record<string, unknown> | undefined;
    } else if (event === 'diff') diff = payload;
    if (!diff) return;
    const expected = serverHtml();
    const id = topic.slice(3);
    const d = diff;
    chain = chain.then(async () => {
      if (isJoin) official = OfficialRendered.create(id, d);
      else (await official)?.merge(d);
      const got = (await official)?.html() ?? '';
      log.checked++;
      if (got !== expected) log.mismatches.push({ official: got, server: expected });
    });
  };

  return {
    onFrame: (f) => {
      if (view) check(f);
      else pending.push(f);
    },
    attach: (v) => {
      view = v;
      // The join reply arrived before the view object existed: its state is the current state.
      for (const f of pending.splice(0)) check(f);
    },
    log,
  };
}
