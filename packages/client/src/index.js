// Inlet's browser entry: the official Phoenix clients, unmodified, plus a
// `connect()` that wires the CSRF token, hooks and uploaders.
import { Socket } from 'phoenix';
import { LiveSocket } from 'phoenix_live_view';
import { Uploaders } from './uploaders.js';

export { Socket, LiveSocket, Uploaders };

/**
 * Creates and connects a LiveSocket at `/live` (or `options.path`).
 * `options.params` (object or function) is merged with the page's CSRF token;
 * `options.uploaders` is merged over Inlet's built-in uploaders; every other
 * option goes to LiveSocket as is.
 *
 * @example
 * import { connect } from '/inlet/inlet-client.js'
 * connect({ hooks: { Chart: { mounted() { … } } } })
 */
export function connect(options = {}) {
  const meta = document.querySelector("meta[name='csrf-token']");
  const csrf = meta ? meta.getAttribute('content') : undefined;
  const { path = '/live', params, uploaders, ...rest } = options;
  const withCsrf = (extra) => Object.assign({ _csrf_token: csrf }, extra || {});
  const liveSocket = new LiveSocket(path, Socket, {
    ...rest,
    uploaders: Object.assign({}, Uploaders, uploaders || {}),
    // A function, so LiveView's reconnect bookkeeping (_mounts, …) never lands in a shared object.
    params: () => withCsrf(typeof params === 'function' ? params() : params),
  });
  liveSocket.connect();
  return liveSocket;
}
