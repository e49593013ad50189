// A counter: clicks update assigns, and only the count travels in the diff.
import { createLiveView, html } from 'inletjs';
import { nav } from './layout.js';

export const Counter = createLiveView({
  mount: (socket) => {
    socket.assign({ count: 0 });
    socket.pageTitle('Counter');
  },
  handleEvent: (event, socket) => {
    const { count } = socket.assigns;
    if (event.type === 'inc') socket.assign({ count: count + 1 });
    if (event.type === 'dec') socket.assign({ count: count - 1 });
    if (event.type === 'reset') socket.assign({ count: 0 });
  },
  render: ({ count }) => html`${nav()}<main class="container">
<h1>Counter</h1>
<p>Count: <output id="count">${count}</output></p>
<button id="dec" phx-click="dec">−</button>
<button id="inc" phx-click="inc">+</button>
<button id="reset" phx-click="reset">Reset</button>
</main>`,
});
