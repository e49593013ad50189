// Views served by every node of the test cluster. Each page shows the node
// that holds its live socket (`#node`), so a test can tell nodes apart.
import { createLiveView, html } from 'inletjs';

/** A chat room: every view subscribes to one topic; a click broadcasts to all. */
export function createRoom(nodeName) {
  return createLiveView({
    mount: (socket, _session, params) => {
      const room = typeof params.room === 'string' ? params.room : 'lobby';
      socket.assign({ room, messages: [], node: socket.connected ? nodeName : '' });
      if (socket.connected) socket.subscribe(`room:${room}`);
    },
    handleEvent: (event, socket) => {
      if (event.type === 'say') socket.broadcast(`room:${socket.assigns.room}`, { text: String(event.text ?? ''), from: nodeName });
    },
    handleInfo: (info, socket) => socket.assign({ messages: [...socket.assigns.messages, info] }),
    render: ({ node, messages }) => html`<main>
<p id="node">${node}</p>
<form id="say" phx-submit="say"><input name="text" autocomplete="off"><button>Send</button></form>
<ul id="messages">${messages.map((m) => html`<li data-from="${m.from}">${m.text}</li>`)}</ul>
</main>`,
  });
}
