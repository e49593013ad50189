// Inlet's browser entry: the official Phoenix clients, unmodified, plus a
// `connect()` that wires the CSRF token, hooks and uploaders.
import { Socket } from 'phoenix';
import { LiveSocket } from 'phoenix_live_view';
import { Uploaders } from './uploaders.js';
import { Inlet, pauseUpload, resumeUpload, uploadStatus } from './uploader.js';
import { DOM_EVENTS, INLET_UPLOADER_PARAM, INLET_UPLOADER_VERSION } from './uploader-wire.js';

export { Socket, LiveSocket, Uploaders, Inlet, pauseUpload, resumeUpload, uploadStatus };

let domEventsBound = false;
function bindDomEvents() {
  if (domEventsBound) return;
  domEventsBound = true;
  // For templates: JS.dispatch('inlet:pause-upload', { detail: { ref } }).
  document.addEventListener(DOM_EVENTS.PAUSE, (e) => e.detail && pauseUpload(e.detail.ref));
  document.addEventListener(DOM_EVENTS.RESUME, (e) => e.detail && resumeUpload(e.detail.ref));
}

/**
 * The page's colocated hooks and scripts: the server's `/inlet/colocated.js`
 * fills this global before the boot script runs (see inletjs `hook()`).
 */
export function colocated() {
  const found = typeof window !== 'undefined' ? window.__inletColocated : undefined;
  return { hooks: (found && found.hooks) || {}, scripts: (found && found.scripts) || [] };
}

/**
 * Creates and connects a LiveSocket at `/live` (or `options.path`).
 * `options.params` (object or function) is merged with the page's CSRF token
 * and the `_inlet_uploader` param, which tells the server that this page has
 * the Inlet uploader (so in-socket uploads use it); `options.uploaders` is
 * merged over Inlet's uploaders (`Inlet`, `S3`, `UpChunk`); `options.hooks`
 * over the page's colocated hooks, whose scripts then run with the
 * LiveSocket; every other option goes to LiveSocket as is. Pass
 * `longPollFallbackMs: 2500` (as Phoenix's generated app does) to fall back
 * to long polling when the WebSocket fails or has not connected in 2.5 s.
 *
 * @example
 * import { connect } from '/inlet/inlet-client.js'
 * connect({ hooks: { Chart: { mounted() { … } } } })
 */
export function connect(options = {}) {
  const meta = document.querySelector("meta[name='csrf-token']");
  const csrf = meta ? meta.getAttribute('content') : undefined;
  const { path = '/live', params, uploaders, hooks, ...rest } = options;
  const withCsrf = (extra) => Object.assign({ _csrf_token: csrf, [INLET_UPLOADER_PARAM]: INLET_UPLOADER_VERSION }, extra || {});
  bindDomEvents();
  const page = colocated();
  const liveSocket = new LiveSocket(path, Socket, {
    ...rest,
    hooks: Object.assign({}, page.hooks, hooks || {}),
    uploaders: Object.assign({}, Uploaders, { Inlet }, uploaders || {}),
    // A function, so LiveView's reconnect bookkeeping (_mounts, …) never lands in a shared object.
    params: () => withCsrf(typeof params === 'function' ? params() : params),
  });
  liveSocket.connect();
  for (const [name, run] of page.scripts) {
    try {
      run(liveSocket);
    } catch (e) {
      // Reported as an uncaught error (console and window "error" listeners) without stopping the other scripts.
      reportError(new Error(`[inlet] colocated script "${name}" failed`, { cause: e }));
    }
  }
  return liveSocket;
}
