/**
 * @inletjs/s3: S3 storage for Inlet uploads. Presigned POST policies for the
 * direct-to-S3 flow, and a multipart chunk store for the built-in receiver.
 * Owns the `@aws-sdk/*` dependencies so the `inletjs` core never loads them.
 *
 * @example
 * import { createS3Client, presignPost, S3MultipartStore } from '@inletjs/s3';
 */
export {
  DEFAULT_S3_CONNECTION_TIMEOUT_MS,
  DEFAULT_S3_SOCKET_TIMEOUT_MS,
  createS3Client,
  type S3ClientOptions,
} from './client.js';
export {
  DEFAULT_PRESIGN_EXPIRES_IN_S,
  MAX_PRESIGN_EXPIRES_IN_S,
  presignPost,
  type PresignPostOptions,
  type S3PresignedPost,
} from './presign-post.js';
export {
  DEFAULT_KEY_PREFIX,
  DEFAULT_MAX_PART_BYTES,
  S3MultipartStore,
  S3TransientError,
  S3_MAX_PARTS,
  S3_MIN_PART_BYTES,
  isTransientS3Error,
  type S3ChunkBody,
  type S3ChunkSession,
  type S3MultipartStoreOptions,
  type S3UploadMeta,
} from './multipart-store.js';
