/**
 * An S3 client set up for AWS and for S3-compatible servers alike.
 */
import { S3Client } from '@aws-sdk/client-s3';

/**
 * How long connecting to S3 may take before the attempt fails.
 *
 * @example
 * // a slow link to the bucket: allow twice as long to connect
 * createS3Client({ region, credentials, connectionTimeoutMs: 2 * DEFAULT_S3_CONNECTION_TIMEOUT_MS });
 */
export const DEFAULT_S3_CONNECTION_TIMEOUT_MS = 10_000;
/**
 * How long a connection may sit idle (nothing sent or received) mid-request
 * before it is abandoned. Without it a stalled server (a full radosgw OSD, a
 * dead load balancer) hangs an upload forever instead of failing it.
 *
 * @example
 * // fail stalled requests sooner
 * createS3Client({ region, credentials, socketTimeoutMs: DEFAULT_S3_SOCKET_TIMEOUT_MS / 2 });
 */
export const DEFAULT_S3_SOCKET_TIMEOUT_MS = 60_000;

/**
 * Options of {@link createS3Client}.
 *
 * @example
 * const options: S3ClientOptions = {
 *   region: 'eu-west-1',
 *   credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID!, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY! },
 *   maxAttempts: 5,
 * };
 */
export interface S3ClientOptions {
  /** Base URL of an S3-compatible server (`http://127.0.0.1:7480`); omit for AWS. */
  endpoint?: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Address buckets as `/bucket/key` instead of `bucket.host`; default: true when `endpoint` is set. */
  forcePathStyle?: boolean;
  /** Attempts per request, including the first (SDK default 3). */
  maxAttempts?: number;
  /** Connect timeout; default {@link DEFAULT_S3_CONNECTION_TIMEOUT_MS}. */
  connectionTimeoutMs?: number;
  /** Idle-socket timeout during a request; default {@link DEFAULT_S3_SOCKET_TIMEOUT_MS}. */
  socketTimeoutMs?: number;
}

/**
 * Creates an `S3Client` that works against S3-compatible servers as well as
 * AWS: path-style addressing when an endpoint is given, and checksums only
 * where S3 requires them (`WHEN_REQUIRED`). The SDK's default of adding
 * flexible checksums to every upload sends `aws-chunked` bodies with trailers,
 * which servers such as radosgw 16 reject (`MissingContentLength`) and some
 * emulators store verbatim. Connect and idle timeouts are on by default, so
 * a stalled server yields a retryable error rather than a hung request.
 *
 * @example
 * const client = createS3Client({
 *   endpoint: 'http://127.0.0.1:7480',
 *   region: 'us-east-1',
 *   credentials: { accessKeyId: 'TESTKEY', secretAccessKey: 'TESTSECRET' },
 * });
 */
export function createS3Client(options: S3ClientOptions): S3Client {
  return new S3Client({
    region: options.region,
    credentials: options.credentials,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    requestHandler: {
      connectionTimeout: options.connectionTimeoutMs ?? DEFAULT_S3_CONNECTION_TIMEOUT_MS,
      socketTimeout: options.socketTimeoutMs ?? DEFAULT_S3_SOCKET_TIMEOUT_MS,
    },
  });
}
