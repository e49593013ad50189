/**
 * How the multipart store numbers parts and finds them again, with no state
 * of its own: a part's number comes from its offset in the file,
 * `1 + floor(offset / partBytes)`, so any node writing the chunk at an offset
 * uses the same number (a resend replaces the part, never adds one), and
 * numbers strictly ascend because every part but the last is at least
 * `partBytes` long. At completion the parts are listed from S3 (ListParts)
 * and must line up: each starts where the previous one ended, at the number
 * its offset gives, and together they are exactly the file.
 */
import { ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * Most parts one multipart upload may have.
 *
 * @example
 * // the largest file a store with 8 MiB parts can take
 * const largest = S3_MAX_PARTS * 8 * 1024 * 1024;
 */
export const S3_MAX_PARTS = 10_000;

/** The part number of the chunk that starts at `offset`. */
export function partNumberAt(offset: number, partBytes: number): number {
  return 1 + Math.floor(offset / partBytes);
}

/** A part as ListParts reports it. */
export interface ListedPart {
  readonly PartNumber: number;
  readonly ETag: string;
  readonly Size: number;
  readonly LastModified?: Date | undefined;
}

/** Every part of a multipart upload, in part-number order (ListParts, page by page). */
export async function listParts(
  client: S3Client,
  where: { bucket: string; key: string; uploadId: string },
  signal?: AbortSignal,
): Promise<ListedPart[]> {
  const parts: ListedPart[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await client.send(
      new ListPartsCommand({ Bucket: where.bucket, Key: where.key, UploadId: where.uploadId, ...(marker ? { PartNumberMarker: marker } : {}) }),
      { abortSignal: signal },
    );
    for (const p of page.Parts ?? []) {
      if (p.PartNumber === undefined || p.ETag === undefined || p.Size === undefined) continue;
      parts.push({ PartNumber: p.PartNumber, ETag: p.ETag, Size: p.Size, LastModified: p.LastModified });
    }
    if (!page.IsTruncated || !page.NextPartNumberMarker) break;
    marker = String(page.NextPartNumberMarker);
  }
  return parts.sort((a, b) => a.PartNumber - b.PartNumber);
}

/**
 * The parts that make the file's first bytes, in order: from offset 0, each
 * part at the number its offset gives, until one is missing. `offset` is
 * where they end (the durable offset); `stray` counts parts that are not in
 * that chain (written by a node whose lease lapsed, or past a gap).
 */
export function chainOf(parts: readonly ListedPart[], partBytes: number): { chain: ListedPart[]; offset: number; stray: number } {
  const byNumber = new Map(parts.map((p) => [p.PartNumber, p]));
  const chain: ListedPart[] = [];
  let offset = 0;
  for (;;) {
    const part = byNumber.get(partNumberAt(offset, partBytes));
    if (!part || part.Size === 0) break;
    // Every part but the last must be at least partBytes, or the next number could collide with this one.
    const last = chain.at(-1);
    if (last && last.Size < partBytes) break;
    chain.push(part);
    offset += part.Size;
  }
  return { chain, offset, stray: parts.length - chain.length };
}
