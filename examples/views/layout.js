// Shared page chrome for the examples: a nav bar and a flash area.
import { html, link as inletLink } from 'inletjs';

export const nav = () => html`<nav class="nav">${inletLink({ navigate: '/' }, 'Examples')}</nav>`;

export const flashes = (flash) =>
  html`${flash.info ? html`<p class="flash info" role="status" phx-click="lv:clear-flash" phx-value-key="info">${flash.info}</p>` : ''}${
    flash.error ? html`<p class="flash error" role="alert" phx-click="lv:clear-flash" phx-value-key="error">${flash.error}</p>` : ''
  }`;

// Live navigation through Inlet's link(), as <.link navigate> / <.link patch>.
export const link = (to, label, kind = 'navigate') => inletLink(kind === 'patch' ? { patch: to } : { navigate: to }, label);
