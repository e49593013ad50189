/**
 * Presigned POST policies for direct browser uploads to S3 (LiveView's
 * `uploader: "S3"` flow): the browser posts a multipart form straight to the
 * bucket, and S3 enforces size, key, type and expiry from the signed policy.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';

/**
 * Policy lifetime when `expiresIn` is not given, in seconds.
 *
 * @example
 * // a policy that lasts a quarter of the default hour
 * await presignPost({ client, bucket, key, contentType, maxFileSize, expiresIn: DEFAULT_PRESIGN_EXPIRES_IN_S / 4 });
 */
export const DEFAULT_PRESIGN_EXPIRES_IN_S = 3600;
/**
 * Longest lifetime SigV4 allows for a signature, in seconds (7 days).
 *
 * @example
 * const expiresIn = Math.min(requestedSeconds, MAX_PRESIGN_EXPIRES_IN_S);
 */
export const MAX_PRESIGN_EXPIRES_IN_S = 7 * 24 * 3600;
/** Longest accepted Content-Type. */
const MAX_CONTENT_TYPE_LENGTH = 255;

/**
 * Options of {@link presignPost}.
 *
 * @example
 * const options: PresignPostOptions = { client, bucket: 'uploads', key: `docs/${entry.uuid}.pdf`, contentType: 'application/pdf', maxFileSize: 20_000_000 };
 * const post = await presignPost(options);
 */
export interface PresignPostOptions {
  client: S3Client;
  bucket: string;
  /** Exact object key the browser must use. Keys ending in `${filename}` are refused: the key is never the client's choice. */
  key: string;
  /** Exact Content-Type the form must carry; also stored on the object. */
  contentType: string;
  /** Largest accepted file, in bytes (inclusive). */
  maxFileSize: number;
  /** Smallest accepted file, in bytes; default 0 (empty files allowed). */
  minFileSize?: number;
  /** Policy lifetime in seconds; default {@link DEFAULT_PRESIGN_EXPIRES_IN_S}. */
  expiresIn?: number;
}

/**
 * Metadata for LiveView's external `S3` uploader: post `fields` plus the file to `url`.
 *
 * @example
 * const post: S3PresignedPost = await presignPost({ client, bucket: 'uploads', key, contentType: 'image/png', maxFileSize: 5_000_000 });
 * // the browser posts post.fields, then the file, to post.url; the object ends up at post.key
 */
export interface S3PresignedPost {
  readonly uploader: 'S3';
  /** Bucket URL to POST the form to. */
  readonly url: string;
  /** Form fields to send before the `file` field, in any order. */
  readonly fields: Readonly<Record<string, string>>;
  readonly key: string;
}

/**
 * Signs a POST policy that lets one browser upload one object: the exact
 * `key`, the exact `contentType`, at most `maxFileSize` bytes, before
 * `expiresIn` seconds pass. A successful upload answers 204; a larger file
 * 400 `EntityTooLarge`; anything else that breaks the policy 403.
 *
 * @example
 * socket.allowUpload('avatar', {
 *   external: (entry) =>
 *     // { uploader: 'S3', url, fields, key }: the client's S3 uploader posts fields + file to url
 *     presignPost({
 *       client, bucket: 'uploads', key: `avatars/${entry.uuid}`,
 *       contentType: entry.clientType, maxFileSize: 8_000_000, expiresIn: 600,
 *     }),
 * });
 */
export async function presignPost(options: PresignPostOptions): Promise<S3PresignedPost> {
  const { client, bucket, key, contentType } = options;
  const minFileSize = options.minFileSize ?? 0;
  const expiresIn = options.expiresIn ?? DEFAULT_PRESIGN_EXPIRES_IN_S;
  if (bucket === '') throw new TypeError('presignPost: bucket must not be empty');
  if (key === '' || key.includes('${filename}')) {
    throw new TypeError('presignPost: key must be a non-empty exact key (no ${filename})');
  }
  if (contentType === '' || contentType.length > MAX_CONTENT_TYPE_LENGTH || /[\r\n]/.test(contentType)) {
    throw new TypeError('presignPost: contentType must be a non-empty single-line value');
  }
  if (!Number.isSafeInteger(options.maxFileSize) || options.maxFileSize < 0) {
    throw new RangeError(`presignPost: maxFileSize must be a non-negative integer (got ${options.maxFileSize})`);
  }
  if (!Number.isSafeInteger(minFileSize) || minFileSize < 0 || minFileSize > options.maxFileSize) {
    throw new RangeError(`presignPost: minFileSize must be an integer between 0 and maxFileSize (got ${minFileSize})`);
  }
  if (!Number.isSafeInteger(expiresIn) || expiresIn <= 0 || expiresIn > MAX_PRESIGN_EXPIRES_IN_S) {
    throw new RangeError(`presignPost: expiresIn must be 1..${MAX_PRESIGN_EXPIRES_IN_S} seconds (got ${expiresIn})`);
  }
  // The SDK turns every field into an exact-match condition ({"Content-Type": …},
  // {"bucket": …}, the credential fields) and adds {"key": key} itself.
  const { url, fields } = await createPresignedPost(client, {
    Bucket: bucket,
    Key: key,
    Conditions: [['content-length-range', minFileSize, options.maxFileSize]],
    Fields: { 'Content-Type': contentType },
    Expires: expiresIn,
  });
  return { uploader: 'S3', url, fields, key };
}
