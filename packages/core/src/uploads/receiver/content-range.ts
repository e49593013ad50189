/**
 * Parsing of the request headers that drive the chunk receiver. Pure; every
 * failure is a value, never an exception.
 */

/** A data write: bytes `start`..`end` (inclusive) of a `total`-byte file. */
export interface ByteRange {
  readonly kind: 'bytes';
  readonly start: number;
  readonly end: number;
  readonly total: number;
}

/** `bytes *\/total`: "how much do you hold?" (and, when all is held, "finish"). */
export interface StatusQuery {
  readonly kind: 'status';
  readonly total: number;
}

export type ContentRange = ByteRange | StatusQuery;

/** Longest decimal accepted for a byte position; 15 digits stay below 2^53. */
const MAX_DIGITS = 15;
const BYTES_RE = new RegExp(`^bytes (\\d{1,${MAX_DIGITS}})-(\\d{1,${MAX_DIGITS}})/(\\d{1,${MAX_DIGITS}})$`);
const STATUS_RE = new RegExp(`^bytes \\*/(\\d{1,${MAX_DIGITS}})$`);
const LENGTH_RE = new RegExp(`^\\d{1,${MAX_DIGITS}}$`);

/**
 * Parses `Content-Range: bytes s-e/T` or `bytes *\/T`. Returns `undefined`
 * when the header is missing or malformed, including `e < s`, `e >= T` and
 * an unknown total (`/*`), which this receiver does not support.
 *
 * @example
 * parseContentRange('bytes 0-1023/4096'); // { kind: 'bytes', start: 0, end: 1023, total: 4096 }
 * parseContentRange('bytes *\/4096');     // { kind: 'status', total: 4096 }
 */
export function parseContentRange(header: string | undefined): ContentRange | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  const bytes = BYTES_RE.exec(value);
  if (bytes) {
    const start = Number(bytes[1]);
    const end = Number(bytes[2]);
    const total = Number(bytes[3]);
    if (end < start || end >= total) return undefined;
    return { kind: 'bytes', start, end, total };
  }
  const status = STATUS_RE.exec(value);
  if (status) return { kind: 'status', total: Number(status[1]) };
  return undefined;
}

/** Number of bytes a range declares: `end - start + 1`, or 0 for a status query. */
export function declaredLength(range: ContentRange): number {
  return range.kind === 'bytes' ? range.end - range.start + 1 : 0;
}

/**
 * Parses a `Content-Length` header: `undefined` when absent, `null` when
 * malformed (several values, signs, non-digits), else the number.
 *
 * @example
 * parseContentLength('42'); // 42
 * parseContentLength('4x'); // null
 */
export function parseContentLength(header: string | undefined): number | null | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  return LENGTH_RE.test(value) ? Number(value) : null;
}

/**
 * The `Range` header the receiver answers with when it holds `offset` bytes:
 * `bytes=0-(offset-1)`, or `undefined` when it holds nothing.
 *
 * @example
 * rangeHeader(1024); // 'bytes=0-1023'
 * rangeHeader(0);    // undefined
 */
export function rangeHeader(offset: number): string | undefined {
  return offset > 0 ? `bytes=0-${offset - 1}` : undefined;
}
