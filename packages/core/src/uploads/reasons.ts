/**
 * The upload wire vocabulary, in one place: the reasons an entry or config
 * fails (rendered, and listed in `data-phx-error-refs`), and the reasons an
 * upload channel refuses a join or a chunk (protocol.md §5.7, §5.11). The
 * names match LiveView's where LiveView has one.
 */

/** Why an entry (or, for `too_many_files`, its config) is in error. */
export const ENTRY_ERRORS = {
  TOO_LARGE: 'too_large',
  NOT_ACCEPTED: 'not_accepted',
  TOO_MANY_FILES: 'too_many_files',
  INVALID_SIZE: 'invalid_size',
  EXTERNAL_CLIENT_FAILURE: 'external_client_failure',
  EXTERNAL_METADATA_FAILURE: 'external_metadata_failure',
  WRITER_FAILURE: 'writer_failure',
  CHUNK_TIMEOUT: 'chunk_timeout',
  QUOTA_EXCEEDED: 'quota_exceeded',
} as const;

/** Why an upload channel refused a join or a chunk. */
export const UPLOAD_REASONS = {
  INVALID_TOKEN: 'invalid_token',
  DISALLOWED: 'disallowed',
  ALREADY_REGISTERED: 'already_registered',
  TOO_MANY_CHANNELS: 'too_many_channels',
  WRITER_ERROR: 'writer_error',
  SIZE_EXCEEDED: 'file_size_limit_exceeded',
  CHUNK_TOO_LARGE: 'chunk_too_large',
  INVALID_CHUNK: 'invalid_chunk',
  UNKNOWN_EVENT: 'unknown_event',
} as const;
