// Views served by every node of the test cluster. Each page shows the node
// that holds its live socket (`#node`), so a test can tell nodes apart.
import { chunkedUpload, createLiveView, html, live_file_input, uploadErrorMessages } from 'inletjs';

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

/**
 * In-socket uploads (the official client's lvu: channel): a form whose submit
 * consumes every entry into `outDir` and lists name, size and sha256. The
 * socket's node keeps the bytes, as Phoenix does; with `store` (S3 multipart)
 * they go there instead, and the list gives each object's key.
 */
export function createUpload(nodeName, outDir, store) {
  let seq = 0;
  return createLiveView({
    mount: (socket) => {
      socket.assign({ saved: [], node: socket.connected ? nodeName : '' });
      socket.allowUpload('files', { accept: 'any', maxEntries: 10, maxFileSize: 2 * 1024 ** 3, ...(store ? { store } : {}) });
    },
    handleEvent: async (event, socket) => {
      if (event.type !== 'save') return;
      const saved = await socket.consumeUploadedEntries('files', async (meta, entry) => {
        if (store) return { name: entry.clientName, dest: meta.key, size: meta.size, sha256: meta.sha256 };
        seq += 1;
        const name = meta.fileSystem.sanitizeFilename(entry.clientName);
        const dest = `${outDir}/${nodeName}-${process.pid}-${seq}-${name}`;
        await meta.fileSystem.createOrAppendFile(dest, meta.path);
        return { name: entry.clientName, dest, size: meta.size, sha256: meta.sha256 };
      });
      socket.assign({ saved: [...socket.assigns.saved, ...saved] });
    },
    render: ({ node, saved }, { uploads }) =>
      html`<p id="node">${node}</p><form id="f" phx-change="validate" phx-submit="save">${live_file_input(uploads.files)}<button type="submit">Go</button></form><ul id="saved">${saved.map(
        (s) => html`<li data-sha="${s.sha256}" data-dest="${s.dest}">${s.name}</li>`,
      )}</ul>`,
  });
}

/**
 * UpChunk uploads to the chunk receiver (5 MiB Content-Range requests, each
 * balanced to any node; the node config puts sessions in Redis and bytes in
 * S3). A finished entry is consumed at once and listed with its object key
 * and the receiver's sha256; an entry's errors are shown in plain words.
 */
export function createChunked(nodeName) {
  return createLiveView({
    mount: (socket) => {
      socket.assign({ saved: [], node: socket.connected ? nodeName : '' });
      socket.allowUpload('files', {
        accept: 'any',
        maxEntries: 3,
        maxFileSize: 2 * 1024 ** 3,
        autoUpload: true,
        external: chunkedUpload({ chunkSizeKiB: 5120 }),
        progress: async (name, entry, s) => {
          if (!entry.done) return;
          const saved = await s.consumeUploadedEntry(name, entry, (meta) => ({ name: entry.clientName, key: meta.key, sha256: meta.sha256, node: nodeName }));
          s.assign({ saved: [...s.assigns.saved, saved] });
        },
      });
    },
    handleEvent: () => undefined,
    render: ({ node, saved }, { uploads }) =>
      html`<p id="node">${node}</p><form id="f" phx-change="validate">${live_file_input(uploads.files)}</form>${uploads.files.entries.map(
        (e) => html`<div class="entry" data-name="${e.clientName}"><progress value="${e.progress}" max="100"></progress><span class="msg">${uploadErrorMessages(uploads.files, e).join(' ')}</span></div>`,
      )}<ul id="saved">${saved.map((s) => html`<li data-key="${s.key}" data-sha="${s.sha256}" data-node="${s.node}">${s.name}</li>`)}</ul>`,
  });
}
