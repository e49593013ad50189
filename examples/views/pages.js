// Two views that link to each other with live navigation (no page load),
// plus a live patch within the first.
import { createLiveView, html } from 'inletjs';
import { link, nav } from './layout.js';

export const PageOne = createLiveView({
  mount: (socket) => socket.assign({ tab: 'a', mountedAt: Date.now() }),
  handleParams: (url, socket) => {
    socket.assign({ tab: url.searchParams.get('tab') === 'b' ? 'b' : 'a' });
    socket.pageTitle(`Page one (${socket.assigns.tab})`);
  },
  handleEvent: (event, socket) => {
    if (event.type === 'go-two') socket.pushNavigate('/pages/two');
  },
  render: ({ tab }) => html`${nav()}<main class="container" id="page-one">
<h1>Page one</h1>
<p>Tab: <strong id="tab">${tab}</strong></p>
<p>${link('/pages/one?tab=a', 'Tab A', 'patch')} · ${link('/pages/one?tab=b', 'Tab B', 'patch')}</p>
<p>${link('/pages/two', 'Go to page two')} <button id="go-two" phx-click="go-two">Navigate from the server</button></p>
</main>`,
});

export const PageTwo = createLiveView({
  mount: (socket) => socket.pageTitle('Page two'),
  render: () => html`${nav()}<main class="container" id="page-two">
<h1>Page two</h1>
<p>${link('/pages/one', 'Back to page one')}</p>
</main>`,
});
