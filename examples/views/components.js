// Stateful components: each card keeps its own count and handles its own
// clicks (phx-target), and the parent can add and remove cards.
import { createLiveComponent, createLiveView, html, liveComponent } from 'inletjs';
import { nav } from './layout.js';

export const Card = createLiveComponent({
  mount: (socket) => socket.assign({ likes: 0 }),
  handleEvent: (event, socket) => {
    if (event.type === 'like') socket.assign({ likes: socket.assigns.likes + 1 });
  },
  render: ({ id, title, likes }, { myself }) => html`<article class="card" id="card-${id}">
<h3>${title}</h3>
<button phx-click="like" phx-target="${myself}">♥ <span class="likes">${likes}</span></button>
</article>`,
});

export const Components = createLiveView({
  mount: (socket) => {
    socket.assign({ cards: [{ id: 'a', title: 'First' }, { id: 'b', title: 'Second' }], next: 1 });
    socket.pageTitle('Components');
  },
  handleEvent: (event, socket) => {
    const { cards, next } = socket.assigns;
    if (event.type === 'add') socket.assign({ cards: [...cards, { id: `n${next}`, title: `Card ${next}` }], next: next + 1 });
    if (event.type === 'remove') socket.assign({ cards: cards.filter((c) => c.id !== event.id) });
    if (event.type === 'rename') socket.assign({ cards: cards.map((c) => (c.id === event.id ? { ...c, title: `${c.title}!` } : c)) });
  },
  render: ({ cards }) => html`${nav()}<main class="container">
<h1>Components</h1>
<button id="add" phx-click="add">Add a card</button>
<div id="cards">${cards.map((c) => html`<div class="slot">${liveComponent(Card, { id: c.id, title: c.title })}
<button phx-click="rename" phx-value-id="${c.id}">Rename</button><button phx-click="remove" phx-value-id="${c.id}">Remove</button></div>`)}</div>
</main>`,
});
