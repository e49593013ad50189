// Client uploaders for external uploads, by the name the server's presign
// metadata gives in `uploader`. Apps add their own through connect({ uploaders }).
//
// Each uploader is called as (entries, onViewError) with the official client's
// upload entries: entry.file, entry.meta (the presign metadata),
// entry.progress(0..100), entry.error(message) and entry.onCancel(callback).
import { createUpload } from '@mux/upchunk';

/** Reads `Code: Message` from an S3 XML error body, or falls back to the HTTP status. */
function s3ErrorMessage(xhr) {
  try {
    const doc = new DOMParser().parseFromString(xhr.responseText || '', 'application/xml');
    const code = doc.querySelector('Error > Code')?.textContent;
    const message = doc.querySelector('Error > Message')?.textContent;
    if (code || message) return [code, message].filter(Boolean).join(': ');
  } catch {
    // not XML
  }
  return `S3 answered ${xhr.status}${xhr.statusText ? ` ${xhr.statusText}` : ''}`;
}

/**
 * Presigned POST to S3 (or any S3-compatible store): meta is
 * `{ uploader: 'S3', url, fields }`. Sends the fields plus the file as
 * multipart form data, reports XHR progress, and completes on 2xx; an S3
 * error becomes the entry's error with S3's own code and message.
 */
function S3(entries, onViewError) {
  for (const entry of entries) {
    const { url, fields = {} } = entry.meta;
    const form = new FormData();
    for (const [key, value] of Object.entries(fields)) form.append(key, value);
    form.append('file', entry.file);
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    onViewError(abort);
    entry.onCancel(abort);
    xhr.upload.addEventListener('progress', (event) => {
      if (!event.lengthComputable) return;
      const percent = Math.floor((event.loaded / event.total) * 100);
      if (percent < 100) entry.progress(percent);
    });
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) entry.progress(100);
      else entry.error(s3ErrorMessage(xhr));
    };
    xhr.onerror = () => entry.error('network error while uploading to S3');
    xhr.open('POST', url, true);
    xhr.send(form);
  }
}

/**
 * Statuses after which UpChunk resends the same chunk. UpChunk reports a
 * dropped connection as status 0 and, by default, gives up on it; the
 * receiver keeps every byte it stored, so resending is always safe.
 */
const RETRY_CODES = [0, 408, 429, 502, 503, 504];

/**
 * Chunked upload with Mux UpChunk (`Content-Range` requests, retries):
 * meta is `{ uploader: 'UpChunk', endpoint, chunkSize? (KiB), method?, headers? }`.
 * Pauses when the view errors, aborts on cancel.
 */
function UpChunk(entries, onViewError) {
  for (const entry of entries) {
    const { endpoint, chunkSize, method, headers, attempts, delayBeforeAttempt } = entry.meta;
    const upload = createUpload({
      endpoint,
      file: entry.file,
      retryCodes: RETRY_CODES,
      ...(chunkSize ? { chunkSize } : {}),
      ...(method ? { method } : {}),
      ...(headers ? { headers } : {}),
      ...(attempts ? { attempts } : {}),
      ...(delayBeforeAttempt !== undefined ? { delayBeforeAttempt } : {}),
    });
    onViewError(() => upload.pause());
    entry.onCancel(() => upload.abort());
    upload.on('progress', (event) => {
      if (event.detail < 100) entry.progress(event.detail);
    });
    upload.on('success', () => entry.progress(100));
    upload.on('error', (event) => entry.error(event.detail?.message || 'upload failed'));
  }
}

export const Uploaders = { S3, UpChunk };
