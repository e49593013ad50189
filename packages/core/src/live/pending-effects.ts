/**
 * The effects a view's callbacks asked for (changed assigns, pushed events,
 * title, reply, navigation), gathered across callbacks until a render takes
 * them; and the page title last set, for full renders.
 */
import { LiveViewSocket, type Effects, type Navigation } from './socket.js';

export class PendingEffects {
  readonly #socket: LiveViewSocket<object>;
  #pendingEffects?: Effects;
  /** The page title last set, for full renders. */
  #title?: string;

  constructor(socket: LiveViewSocket<object>) {
    this.#socket = socket;
  }

  /** The page title last set, for full renders. */
  get title(): string | undefined {
    return this.#title;
  }

  /** Gathers the socket's effects so far and returns the navigation they ask for. */
  peekNavigation(): Navigation | undefined {
    const effects = LiveViewSocket.takeEffects(this.#socket);
    this.#mergePending(effects);
    return this.#pendingEffects?.navigation;
  }

  #mergePending(effects: Effects): void {
    if (effects.title !== undefined) this.#title = effects.title;
    const pending = this.#pendingEffects;
    if (!pending) {
      this.#pendingEffects = effects;
      return;
    }
    for (const key of effects.changed) pending.changed.add(key);
    pending.events.push(...effects.events);
    if (effects.title !== undefined) pending.title = effects.title;
    if (effects.reply !== undefined) pending.reply = effects.reply;
    pending.navigation = effects.navigation;
  }

  /** Takes every effect gathered so far, the socket's latest included. */
  take(): Effects {
    const effects = LiveViewSocket.takeEffects(this.#socket);
    this.#mergePending(effects);
    const all = this.#pendingEffects as Effects;
    this.#pendingEffects = undefined;
    return all;
  }

  /** Puts taken effects back, so the next {@link take} merges into them (a patch carries its effects through handleParams). */
  restore(effects: Effects): void {
    this.#pendingEffects = effects;
  }
}
