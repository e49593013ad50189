// Shared page chrome for the examples: a nav bar and a flash area.
import { html } from 'inletjs';

export const nav = () => html`<nav class="nav"><a data-phx-link="redirect" data-phx-link-state="push" href="/">Examples</a></nav>`;

export const flashes = (flash) =>
  html`${flash.info ? html`<p class="flash info" role="status" phx-click="lv:clear-flash" phx-value-key="info">${flash.info}</p>` : ''}${
    flash.error ? html`<p class="flash error" role="alert" phx-click="lv:clear-flash" phx-value-key="error">${flash.error}</p>` : ''
  }`;

export const link = (to, label, kind = 'navigate') =>
  kind === 'patch'
    ? html`<a href="${to}" data-phx-link="patch" data-phx-link-state="push">${label}</a>`
    : html`<a href="${to}" data-phx-link="redirect" data-phx-link-state="push">${label}</a>`;
