/**
 * Types of `@inletjs/client`: the official Phoenix clients (their own
 * declarations), Inlet's `connect()` and Inlet's uploaders.
 */
import type { LiveSocket, LiveSocketOptions } from 'phoenix_live_view';

export { Socket } from 'phoenix';
export { LiveSocket } from 'phoenix_live_view';
export type { HooksOptions, HookInterface, LiveSocketOptions } from 'phoenix_live_view';

/** What an uploader gets for each file: the official client's `UploadEntry`, as uploaders use it. */
export interface UploaderEntry {
  /** The entry's ref (unique per page load). */
  readonly ref: string;
  readonly file: File;
  /** What the server's presign hook returned (`uploader`, and e.g. `url`, `fields`, `endpoint`). */
  readonly meta: Readonly<Record<string, unknown>>;
  /** Reports progress, 0 to 100. */
  progress(percent: number): void;
  /** Fails the entry; `reason` reaches the server as the entry's error message. */
  error(reason?: string): void;
  isCancelled(): boolean;
  isDone(): boolean;
  onCancel(callback: () => void): void;
  onDone(callback: () => void): void;
}

/**
 * A client uploader, as `phoenix_live_view` calls it: the entries whose
 * preflight named it, a callback for view errors, the preflight reply, and
 * the socket.
 */
export type Uploader = (
  entries: UploaderEntry[],
  onViewError: (callback: () => void) => void,
  response: Readonly<Record<string, unknown>>,
  liveSocket: LiveSocket,
) => void;

/** Inlet's external uploaders: `S3` (presigned POST, `@inletjs/s3`) and `UpChunk` (the resumable receiver). */
export declare const Uploaders: { readonly S3: Uploader; readonly UpChunk: Uploader };

/** The Inlet uploader for uploads over the socket: pipelined, checksummed, resumable. */
export declare const Inlet: Uploader;

/** Pauses an entry's upload (by entry ref); false when no such upload runs. */
export declare function pauseUpload(ref: string): boolean;

/** Resumes a paused upload from its acknowledged offset; false when no such upload runs. */
export declare function resumeUpload(ref: string): boolean;

/** What the Inlet uploader knows of one entry. */
export interface UploadStatus {
  readonly state: string;
  /** Bytes the server acknowledged. */
  readonly acked: number;
  /** Bytes sent. */
  readonly sent: number;
  readonly size: number;
  readonly paused: boolean;
  /** Bytes allowed in flight. */
  readonly window: number;
  readonly chunkSize: number;
}

/** The uploader's state of an entry, or undefined when it is not uploading it. */
export declare function uploadStatus(ref: string): UploadStatus | undefined;

/** Options of {@link connect}: LiveSocket's, plus the socket path. */
export interface ConnectOptions extends Omit<Partial<LiveSocketOptions>, 'params' | 'uploaders'> {
  /** The socket path. Default `/live`. */
  path?: string;
  /** Merged with the page's CSRF token on every (re)connect. */
  params?: Record<string, unknown> | (() => Record<string, unknown>);
  /** Merged over Inlet's uploaders (`Inlet`, `S3`, `UpChunk`). */
  uploaders?: Record<string, Uploader>;
}

/**
 * Creates and connects a LiveSocket at `/live` with the page's CSRF token and
 * Inlet's uploaders.
 *
 * @example
 * import { connect } from '@inletjs/client'
 * const liveSocket = connect({ hooks: { Focus: { mounted() { this.el.focus() } } } })
 */
export declare function connect(options?: ConnectOptions): LiveSocket;
