/**
 * One fuzzing lane: its own socket (reopened whenever the server closes it or
 * it has run its share of cases), the pages it may join, and the steps of a
 * case with the oracle applied to each: an answer within the timeout, only
 * well-formed server frames, only the close codes Inlet documents.
 */
import { randomBytes } from 'node:crypto';
import { fetchPage } from '../support/phoenix-ws.js';
import type { Signer } from '../../packages/core/src/live/tokens.js';
import { FuzzSocket, SilenceError, describe, type Answer, type Send } from './fuzz-socket.js';
import type { Tally } from './tally.js';

/** The tokens of one rendered live page. */
export interface PageTokens {
  readonly route: string;
  readonly id: string;
  readonly session: string;
  readonly static: string;
}

/** What every lane shares. */
export interface Shared {
  readonly base: string;
  readonly signer: Signer;
  readonly timeoutMs: number;
  readonly tally: Tally;
  /** Pages of every lane and of the sentinel, for swapped and foreign tokens. */
  readonly pages: PageTokens[];
  /** Recent genuine upload tokens from every lane. */
  readonly uploadTokens: string[];
  /** Upload channels other lanes joined: topic and join ref. */
  readonly uploadTopics: { topic: string; joinRef: string }[];
  /** Why the run must stop (the server process exited), if it must. */
  fatal(): string | undefined;
}

/** Close codes Inlet documents (docs/errors.md): malformed frame, too big, idle. */
export const ALLOWED_CLOSE_CODES: ReadonlySet<number> = new Set([1001, 1007, 1009]);

/** Routes whose pages every lane fetches. */
export const ROUTES = ['/', '/counter', '/form', '/rows', '/components', '/pages/one', '/pages/two', '/uploads/gallery', '/uploads/auto', '/uploads/large', '/uploads/chunked'] as const;
export type Route = (typeof ROUTES)[number];

/** Ends a case early without failing it (the server closed the socket mid-case). */
export class CaseOver extends Error {}

export const frame = (joinRef: unknown, ref: unknown, topic: unknown, event: unknown, payload: unknown): string =>
  JSON.stringify([joinRef, ref, topic, event, payload]);

export class Lane {
  readonly index: number;
  readonly shared: Shared;
  readonly pages = new Map<Route, PageTokens>();
  /** Topics joined on the current socket, with their join refs. */
  readonly joined = new Map<string, string>();
  socket?: FuzzSocket;
  /** Whether the current socket passed the CSRF check (some are opened without). */
  csrfGood = true;
  #cookie = '';
  #csrf = '';
  #refs = 0;
  #forged = 0;
  #connections = 0;
  #casesOnSocket = 0;
  #kind = '';
  #plan = '';
  /** The plans of the last cases, for failure reports. */
  readonly #recent: string[] = [];

  constructor(index: number, shared: Shared) {
    this.index = index;
    this.shared = shared;
  }

  get base(): string {
    return this.shared.base;
  }

  get csrf(): string {
    return this.#csrf;
  }

  async init(): Promise<void> {
    for (const route of ROUTES) {
      const page = await fetchPage(this.base, route);
      if (!this.#cookie) {
        this.#cookie = page.cookie;
        this.#csrf = page.csrf;
      }
      const tokens = { route, id: page.id, session: page.session, static: page.static };
      this.pages.set(route, tokens);
      this.shared.pages.push(tokens);
    }
  }

  page(route: Route): PageTokens {
    return this.pages.get(route) as PageTokens;
  }

  /** A page for a fresh view id, signed with the server's secret (as the HTTP render would). */
  forgePage(route: Route): PageTokens {
    const id = `phx-fz${this.index}x${(this.#forged++).toString(36)}`;
    const ttl = 60 * 60_000;
    return { route, id, session: this.shared.signer.sign('session', { id, s: {} }, ttl), static: this.shared.signer.sign('static', { id }, ttl) };
  }

  /** A ref no other frame of this run uses. */
  ref(): string {
    return `${this.index}.${(this.#refs++).toString(36)}`;
  }

  /** Starts a case: reopens the socket when needed. */
  async begin(kind: string, plan: unknown, casesPerSocket: number): Promise<void> {
    this.#kind = kind;
    this.#plan = JSON.stringify(plan, (_k, v: unknown) => (typeof v === 'string' && v.length > 200 ? `${v.slice(0, 200)}…` : v)).slice(0, 3000);
    this.#recent.push(`${kind} ${this.#plan}`);
    if (this.#recent.length > 4) this.#recent.shift();
    const fatal = this.shared.fatal();
    if (fatal) throw new Error(fatal);
    if (!this.socket?.open || this.#casesOnSocket >= casesPerSocket) await this.reconnect();
    this.#casesOnSocket++;
  }

  async reconnect(): Promise<void> {
    this.socket?.close();
    this.joined.clear();
    this.#casesOnSocket = 0;
    const n = this.#connections++;
    // Every 10th socket has no cookie and every 10th a wrong CSRF token: each of its joins must be refused.
    const noCookie = n % 10 === 7;
    const badCsrf = n % 10 === 3;
    this.csrfGood = !noCookie && !badCsrf;
    const csrf = badCsrf ? randomBytes(16).toString('base64url') : this.#csrf;
    const junk = n % 5 === 1 ? `&x=${encodeURIComponent('"<\u0000>')}&vsn=1.0.0` : '';
    const url = `${this.base.replace('http', 'ws')}/live/websocket?_csrf_token=${encodeURIComponent(csrf)}&vsn=2.0.0${junk}`;
    if (n % 25 === 11) await this.#foreignOrigin(url);
    this.socket = await FuzzSocket.connect(url, noCookie ? {} : { cookie: this.#cookie });
    this.socket.onChannelEnd = (topic, joinRef) => {
      if (this.joined.get(topic) === joinRef) this.joined.delete(topic);
    };
    this.shared.tally.reconnects++;
  }

  /** A socket from another site's page must be refused at the upgrade (403). */
  async #foreignOrigin(url: string): Promise<void> {
    const outcome = await FuzzSocket.connect(url, { cookie: this.#cookie, origin: 'http://evil.example' }).then(
      (s) => {
        s.close();
        return 'accepted';
      },
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    this.require(/403/.test(outcome), `a socket with Origin http://evil.example was ${outcome}`);
    this.shared.tally.count(this.shared.tally.notes, 'foreign Origin refused');
  }

  /** Sends one frame and applies the oracle to its answer. */
  async step(send: Send & { readonly event?: string }): Promise<Answer> {
    return (await this.steps([send]))[0] as Answer;
  }

  /** Sends frames back to back and applies the oracle to every answer. */
  async steps(sends: readonly (Send & { readonly event?: string })[]): Promise<Answer[]> {
    const socket = this.socket;
    if (!socket?.open) throw new CaseOver();
    const tally = this.shared.tally;
    let bytes = 0;
    for (const s of sends) bytes += typeof s.data === 'string' ? Buffer.byteLength(s.data) : s.data.length;
    tally.bytesSent += bytes;
    // The time allowed: the timeout, plus 1 ms per 4 KiB sent and 20 ms per pipelined frame (a 6 MiB frame, 130 joins).
    const budget = this.shared.timeoutMs + Math.ceil(bytes / 4096) + 20 * (sends.length - 1);
    let answers: Answer[];
    try {
      answers = await socket.exchangeAll(sends, budget);
    } catch (e) {
      if (!(e instanceof SilenceError)) throw e;
      this.#failure(`NO ANSWER IN TIME: ${e.message}`);
    }
    if (socket.anomalies.length > 0) this.#failure(`MALFORMED SERVER FRAME: ${socket.anomalies.join(' | ')}`);
    for (let i = 0; i < answers.length; i++) {
      const a = answers[i] as Answer;
      const s = sends[i] as Send & { event?: string };
      tally.steps++;
      tally.latency(a.ms, this.#kind);
      if (a.kind === 'reply') {
        tally.count(tally.outcomes, `reply-${a.status}`);
        // A reply names the request's topic and echoes the join ref of the channel addressed (protocol.md §1.2).
        if (s.topic !== undefined && a.topic !== s.topic) this.#failure(`REPLY ON TOPIC ${JSON.stringify(a.topic).slice(0, 100)} to ${describe(s)}`);
        if (s.topic !== 'phoenix' && typeof s.joinRef === 'string' && a.joinRef !== s.joinRef && a.response.reason !== 'malformed frame') {
          this.#failure(`REPLY JOIN REF ${JSON.stringify(a.joinRef)} (expected ${JSON.stringify(s.joinRef)}) to ${describe(s)}`);
        }
        if (s.event === 'phx_join' && s.topic?.startsWith('lv:') && a.status === 'ok') {
          const rendered = a.response.rendered as Record<string, unknown> | undefined;
          if (!Array.isArray(rendered?.s) || a.response.liveview_version !== '1.2.12') this.#failure(`JOIN REPLY without rendered statics or version: ${JSON.stringify(a.response).slice(0, 300)}`);
        }
        if (a.status === 'error') tally.count(tally.reasons, typeof a.response.reason === 'string' ? a.response.reason.slice(0, 40) : Object.keys(a.response).join('+') || '{}');
        if (s.event === 'phx_join' && s.topic !== undefined) {
          // Any join but a malformed one replaces the topic's channel on the server.
          if (a.status === 'ok' && s.ref !== null) this.joined.set(s.topic, s.joinRef ?? s.ref);
          else if (a.response.reason !== 'malformed frame') this.joined.delete(s.topic);
        }
        if (s.event === 'phx_leave' && s.topic !== undefined && a.status === 'ok') this.joined.delete(s.topic);
      } else if (a.kind === 'close') {
        tally.count(tally.outcomes, `close-${a.code}`);
        if (!ALLOWED_CLOSE_CODES.has(a.code)) this.#failure(`UNEXPECTED CLOSE ${a.code} (${socket.closed?.reason ?? ''}) after ${describe(s)}`);
      } else {
        tally.count(tally.outcomes, a.kind);
        if (s.topic !== undefined) this.joined.delete(s.topic);
      }
    }
    return answers;
  }

  #failure(message: string): never {
    const full = `${message}\n    lane ${this.index}, case kind "${this.#kind}", plan ${this.#plan}\n    earlier cases on this lane:\n      ${this.#recent.slice(0, -1).join('\n      ')}`;
    this.shared.tally.fail(full);
    this.close();
    throw new Error(full);
  }

  /** Fails the case when a precondition the server should meet does not hold. */
  require(ok: boolean, message: string): void {
    if (!ok) this.#failure(`SETUP: ${message}`);
  }

  /** Joins `page` with genuine tokens. On a socket that passed CSRF, the join must succeed. */
  async join(page: PageTokens, extra: Record<string, unknown> = {}): Promise<{ topic: string; joinRef: string; answer: Answer }> {
    const topic = `lv:${page.id}`;
    for (let attempt = 0; ; attempt++) {
      const ref = this.ref();
      const payload = {
        url: this.base + page.route,
        params: { _csrf_token: this.#csrf, _mounts: 0 },
        session: page.session,
        static: page.static,
        ...extra,
      };
      const answer = await this.step({ data: frame(ref, ref, topic, 'phx_join', payload), ref, topic, joinRef: ref, event: 'phx_join' });
      if (answer.kind === 'reply' && answer.response.reason === 'too many channels joined' && attempt === 0) {
        await this.reconnect();
        continue;
      }
      if (this.csrfGood) this.require(answer.kind === 'reply' && answer.status === 'ok', `genuine join of ${page.route} answered ${JSON.stringify(answer).slice(0, 300)}`);
      return { topic, joinRef: ref, answer };
    }
  }

  /** A topic joined on this socket (joins the counter when there is none). */
  async anyJoined(pick: number): Promise<{ topic: string; joinRef: string } | undefined> {
    const all = [...this.joined];
    if (all.length > 0) {
      const [topic, joinRef] = all[pick % all.length] as [string, string];
      return { topic, joinRef };
    }
    const { topic, joinRef, answer } = await this.join(this.page('/counter'));
    return answer.kind === 'reply' && answer.status === 'ok' ? { topic, joinRef } : undefined;
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}
