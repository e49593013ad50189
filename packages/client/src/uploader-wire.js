// The Inlet uploader's wire vocabulary, in one place (the server's copy is
// packages/core/src/uploads/inlet-wire.ts). Protocol: docs/uploads.md,
// "The Inlet uploader".

/** Protocol version, sent as the connect param and in every join. */
export const INLET_UPLOADER_VERSION = 1;
/** Connect param that tells the server this page has the Inlet uploader. */
export const INLET_UPLOADER_PARAM = '_inlet_uploader';
/** `meta.uploader` of the entries the server hands to this uploader. */
export const INLET_UPLOADER_NAME = 'Inlet';

/** Events on `lvu:<ref>` besides the Phoenix ones. */
export const EVENTS = {
  CHUNK: 'inlet_chunk',
  FINISH: 'inlet_finish',
  PAUSE: 'inlet_pause',
};

/** Error reasons the server may answer. */
export const REASONS = {
  OFFSET_MISMATCH: 'offset_mismatch',
  CHUNK_CHECKSUM: 'chunk_checksum',
  INCOMPLETE: 'incomplete',
  CHECKSUM_MISMATCH: 'checksum_mismatch',
};

/** Replies after which the client re-sends from the offset the server gives. */
export const RECOVERABLE = new Set([REASONS.OFFSET_MISMATCH, REASONS.CHUNK_CHECKSUM]);

/** Chunk frame header: version, flags, reserved (2), CRC-32 (u32), offset (f64), little-endian. */
export const HEADER_BYTES = 16;
export const FRAME_VERSION = 1;

/** Bytes of the file that go into its fingerprint. */
export const FINGERPRINT_PREFIX_BYTES = 64 * 1024;

/** DOM events (on document) that pause and resume an entry: `detail: { ref }`. */
export const DOM_EVENTS = {
  PAUSE: 'inlet:pause-upload',
  RESUME: 'inlet:resume-upload',
};
