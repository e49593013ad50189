/**
 * The Inlet uploader's wire vocabulary on `lvu:<ref>` (docs/uploads.md, "The
 * Inlet uploader"): the connect param, events, refusal reasons, the chunk
 * frame and its limits. The browser's copy is
 * packages/client/src/uploader-wire.js.
 */

/** Protocol version: the connect param's value and the join's `inlet` field. */
export const INLET_UPLOADER_VERSION = 1;
/** Connect param a page sends when it has the Inlet uploader (`connect()` does). */
export const INLET_UPLOADER_PARAM = '_inlet_uploader';
/** `meta.uploader` of entries handed to the Inlet uploader. */
export const INLET_UPLOADER_NAME = 'Inlet';

/** Events the Inlet uploader pushes on `lvu:<ref>`. */
export const INLET_EVENTS = {
  CHUNK: 'inlet_chunk',
  FINISH: 'inlet_finish',
  PAUSE: 'inlet_pause',
} as const;

/** Refusals the Inlet uploader recovers from by sending again from `offset`. */
export const INLET_REASONS = {
  OFFSET_MISMATCH: 'offset_mismatch',
  CHUNK_CHECKSUM: 'chunk_checksum',
  INCOMPLETE: 'incomplete',
  CHECKSUM_MISMATCH: 'checksum_mismatch',
  /** Join refused: the resume caps are reached and no parked session can make room. */
  TOO_MANY_SESSIONS: 'too_many_sessions',
} as const;

/** Bytes of the chunk frame header. */
export const INLET_HEADER_BYTES = 16;
/** The only frame version. */
export const INLET_FRAME_VERSION = 1;

/**
 * Chunk size the Inlet uploader gets when the config says `chunkSize: 'auto'`.
 * The window, not the chunk, carries throughput; see docs/uploads.md,
 * Measurements.
 */
export const INLET_AUTO_CHUNK_SIZE = 512 * 1024;
/** Default bytes in flight per entry (sent, not acknowledged). */
export const DEFAULT_INLET_WINDOW = 4 * 1024 * 1024;
/** Largest window the server hands out. */
export const MAX_INLET_WINDOW = 8 * 1024 * 1024;
/** Refused chunks in a row (wrong offset or checksum) before the entry fails. */
export const MAX_INLET_REFUSALS = 32;

/** A parsed chunk frame. */
export interface InletChunk {
  readonly offset: number;
  readonly crc32: number;
  readonly data: Buffer;
}

/**
 * Reads a chunk frame: version, flags, 2 reserved bytes, CRC-32 (u32 LE),
 * offset (f64 LE), then the data. Returns undefined when it is malformed.
 *
 * @example
 * parseInletChunk(frame) // { offset: 0, crc32: 3610763398, data: <Buffer …> }
 */
export function parseInletChunk(frame: Buffer): InletChunk | undefined {
  if (frame.length < INLET_HEADER_BYTES || frame[0] !== INLET_FRAME_VERSION) return undefined;
  const offset = frame.readDoubleLE(8);
  if (!Number.isSafeInteger(offset) || offset < 0) return undefined;
  return { offset, crc32: frame.readUInt32LE(4), data: frame.subarray(INLET_HEADER_BYTES) };
}

/**
 * Builds a chunk frame (the browser does the same; tests and the shipped test
 * client use this).
 *
 * @example
 * encodeInletChunk(0, Buffer.from('hello'))
 */
export function encodeInletChunk(offset: number, data: Uint8Array, crc32: number): Buffer {
  const frame = Buffer.alloc(INLET_HEADER_BYTES + data.length);
  frame[0] = INLET_FRAME_VERSION;
  frame.writeUInt32LE(crc32 >>> 0, 4);
  frame.writeDoubleLE(offset, 8);
  frame.set(data, INLET_HEADER_BYTES);
  return frame;
}
