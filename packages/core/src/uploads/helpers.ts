/**
 * Template helpers for uploads: the file input, image previews, error lists
 * and the message catalog that puts error reasons into words.
 */
import { escapeHtml } from '../render/escape.js';
import { html, safe, type SafeHtml, type Template } from '../render/template.js';
import type { UploadConfigView, UploadEntry, UploadErrorReason } from './socket-api.js';

/**
 * Extra attributes: strings are escaped; `true` renders a bare attribute; `false`/`undefined` omit it.
 *
 * @example
 * const extra: Attrs = { class: 'sr-only', 'aria-label': 'Photos', required: true }
 * html`${live_file_input(uploads.photos, extra)}`
 */
export type Attrs = Readonly<Record<string, string | number | boolean | undefined>>;

function attrs(extra: Attrs | undefined): SafeHtml {
  if (!extra) return safe('');
  let out = '';
  for (const [name, value] of Object.entries(extra)) {
    if (!/^[a-zA-Z_:][-a-zA-Z0-9_:.]*$/.test(name) || value === false || value === undefined) continue;
    out += value === true ? ` ${name}` : ` ${name}="${escapeHtml(String(value))}"`;
  }
  return safe(out);
}

/**
 * The file input for an upload config, with every attribute the official
 * client reads (protocol.md §5.2). Its id is the config ref.
 *
 * @example
 * html`<form phx-change="validate" phx-submit="save">${live_file_input(uploads.photos)}</form>`
 */
export function live_file_input(config: UploadConfigView, extra?: Attrs): Template {
  const entries = config.entries;
  const active = entries.map((e) => e.ref).join(',');
  const done = entries.filter((e) => e.done).map((e) => e.ref).join(',');
  const preflighted = entries.filter((e) => e.preflighted).map((e) => e.ref).join(',');
  const errorRefs = [...new Set(config.errors.map(([ref]) => ref))].join(',');
  const accept = config.accept === 'any' ? safe('') : safe(` accept="${escapeHtml(config.accept.join(','))}"`);
  return html`<input id="${config.ref}" type="file" name="${config.name}"${accept} data-phx-hook="Phoenix.LiveFileUpload" data-phx-upload-ref="${config.ref}" data-phx-active-refs="${active}" data-phx-done-refs="${done}" data-phx-preflighted-refs="${preflighted}"${
    errorRefs ? safe(` data-phx-error-refs="${escapeHtml(errorRefs)}"`) : safe('')
  }${config.autoUpload ? safe(' data-phx-auto-upload') : safe('')}${config.maxEntries > 1 ? safe(' multiple') : safe('')}${attrs(extra)}>`;
}

/**
 * camelCase alias of {@link live_file_input}.
 *
 * @example
 * html`<form phx-change="validate" phx-submit="save">${liveFileInput(uploads.photos, { class: 'picker' })}</form>`
 */
export const liveFileInput = live_file_input;

/**
 * An image preview of a selected file, drawn by the browser from the local
 * file before upload.
 *
 * @example
 * html`${entries.map((e) => live_img_preview(e, { width: 75 }))}`
 */
export function live_img_preview(entry: UploadEntry, extra?: Attrs): Template {
  const id = extra?.id !== undefined ? String(extra.id) : `phx-preview-${entry.ref}`;
  const { id: _id, ...rest } = extra ?? {};
  return html`<img id="${id}" data-phx-upload-ref="${entry.uploadRef}" data-phx-entry-ref="${entry.ref}" data-phx-hook="Phoenix.LiveImgPreview" data-phx-update="ignore"${attrs(rest)}>`;
}

/**
 * camelCase alias of {@link live_img_preview}.
 *
 * @example
 * html`${uploads.photos.entries.map((entry) => liveImgPreview(entry, { width: 120 }))}`
 */
export const liveImgPreview = live_img_preview;

/**
 * Error reasons of a config (`too_many_files`), or of one entry.
 *
 * @example
 * uploadErrors(uploads.photos) // ['too_many_files']
 * uploadErrors(uploads.photos, entry) // ['too_large']
 */
export function uploadErrors(config: UploadConfigView, entry?: UploadEntry): UploadErrorReason[] {
  if (entry) return [...entry.errors];
  return config.errors.filter(([ref]) => ref === config.ref).map(([, reason]) => reason);
}

/**
 * Turns a reason into words.
 *
 * @example
 * const tooLarge: UploadMessage = ({ config }) => `Please pick a file under ${Math.round(config.maxFileSize / 1e6)} MB.`
 * uploadErrorMessages(uploads.photos, entry, { too_large: tooLarge })
 */
export type UploadMessage = (ctx: { config: UploadConfigView; entry?: UploadEntry }) => string;

function mb(bytes: number): string {
  const MIB = 1024 * 1024;
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  return bytes >= 1_000_000 ? `${(bytes / 1_000_000).toFixed(1)} MB` : `${Math.ceil(bytes / 1000)} kB`;
}

/**
 * The default catalog, by reason.
 *
 * @example
 * DEFAULT_UPLOAD_MESSAGES.too_large?.({ config: uploads.photos }) // 'The file is too large (the limit is 8.0 MB).' at the default maxFileSize
 */
export const DEFAULT_UPLOAD_MESSAGES: Readonly<Record<string, UploadMessage>> = {
  too_large: ({ config }) => `The file is too large (the limit is ${mb(config.maxFileSize)}).`,
  not_accepted: ({ config, entry }) =>
    // A refusal on the file's content (sniffing) says what the bytes looked like.
    entry?.errorMessage ??
    (config.accept === 'any' ? 'This type of file is not accepted.' : `This type of file is not accepted (allowed: ${config.accept.join(', ')}).`),
  checksum_mismatch: () => 'The file arrived damaged (its checksum did not match) and was not kept. Please try again.',
  too_many_files: ({ config }) => `Too many files: choose at most ${config.maxEntries}.`,
  invalid_size: () => 'The file is empty or its size is not valid.',
  writer_failure: ({ entry }) => `The file could not be saved${entry?.errorMessage ? `: ${entry.errorMessage}` : '.'}`,
  external_client_failure: ({ entry }) => `The upload failed${entry?.errorMessage ? `: ${entry.errorMessage}` : '.'}`,
  external_metadata_failure: () => 'The upload could not be prepared. Please try again.',
  chunk_timeout: () => 'The upload stalled and was stopped. Please try again.',
  quota_exceeded: ({ entry }) => entry?.errorMessage ?? 'This file would go over your upload quota.',
};

/**
 * Plain-words messages for a config's errors, or one entry's. `overrides`
 * replaces catalog entries; unknown reasons are shown as they are.
 *
 * @example
 * uploadErrorMessages(uploads.photos, entry) // ['The file is too large (the limit is 10 MB).']
 */
export function uploadErrorMessages(
  config: UploadConfigView,
  entry?: UploadEntry,
  overrides: Readonly<Record<string, UploadMessage | string>> = {},
): string[] {
  return uploadErrors(config, entry).map((reason) => {
    const custom = overrides[reason];
    if (typeof custom === 'string') return custom;
    const message = custom ?? DEFAULT_UPLOAD_MESSAGES[reason];
    return message ? message({ config, ...(entry ? { entry } : {}) }) : String(reason);
  });
}
