/**
 * How uploads plug into the live runtime: a per-view extension (each view's
 * {@link UploadManager}, found by the socket's upload methods) and the
 * `lvu:` channel kind that receives one entry's chunks. The server registers
 * both with its app.
 */
import type { ChannelKind, ViewExtension } from '../live/extensions.js';
import { viewExtension } from '../live/live-channel.js';
import { UPLOADS_EXTENSION } from '../live/socket.js';
import { UploadManager, type UploadHost } from './manager.js';
import { joinUploadChannel } from './upload-channel.js';

/** Topic prefix of upload channels: `lvu:<entry ref>`. */
export const UPLOAD_TOPIC_PREFIX = 'lvu:';

/**
 * The uploads extension, with the server's upload services.
 *
 * @example
 * new LiveApp({ routes, secret, extensions: [uploadsExtension({ tmpDir })], channels: [uploadChannelKind] })
 */
export function uploadsExtension(host: UploadHost): ViewExtension<UploadManager> {
  return { name: UPLOADS_EXTENSION, create: (owner) => new UploadManager(owner, host) };
}

/** The `lvu:` channel kind: a token from a view's preflight joins one of its entries. */
export const uploadChannelKind: ChannelKind = {
  prefix: UPLOAD_TOPIC_PREFIX,
  join: (payload, ctx, app) =>
    joinUploadChannel(payload, ctx, app.signer, (viewId, c) => viewExtension<UploadManager>(c.connection, viewId, UPLOADS_EXTENSION)),
};
