/**
 * Inlet's error registry. Programmer and configuration mistakes throw an
 * {@link InletError} with a stable code; failures a client can cause are
 * values on the wire instead (see the protocol and upload reason lists).
 *
 * Codes are listed in `docs/errors.md`.
 *
 * @example
 * ERROR_CODES.INLET_ERR_UPLOAD_NOT_DONE // 'Some upload entries are not complete yet.'
 * const codes = Object.keys(ERROR_CODES) as InletErrorCode[]
 */
export const ERROR_CODES = {
  INLET_ERR_CONFIG_SECRET: 'A signing secret is required in production (set INLET_SECRET or pass `secret`).',
  INLET_ERR_CONFIG_SECRET_SHORT: 'The signing secret must be at least 32 characters long.',
  INLET_ERR_CONFIG_OPTION: 'An option has an invalid value.',
  INLET_ERR_ROUTE_INVALID: 'A route pattern is invalid.',
  INLET_ERR_RENDER_VALUE: 'A template interpolated a value that cannot be rendered.',
  INLET_ERR_RENDER_COMPONENT: 'A component rendered something other than a template with one root element.',
  INLET_ERR_COMPONENT_DUPLICATE_ID: 'The same component (definition and id) was placed twice in one render.',
  INLET_ERR_VIEW_INVALID: 'A view definition is invalid.',
  INLET_ERR_UPLOAD_NOT_ALLOWED: 'No upload with that name has been allowed on this view.',
  INLET_ERR_UPLOAD_ACTIVE_ENTRIES: 'An upload with that name still has active entries.',
  INLET_ERR_UPLOAD_UNKNOWN_ENTRY: 'There is no upload entry with that ref.',
  INLET_ERR_UPLOAD_NOT_DONE: 'Some upload entries are not complete yet.',
  INLET_ERR_UPLOAD_OPTION: 'An upload option has an invalid value.',
  INLET_ERR_UPLOAD_DESTINATION: 'A destination path escapes its directory.',
  INLET_ERR_UPLOAD_NO_FREE_NAME: 'Every name tried for the file is taken in its destination folder.',
  INLET_ERR_STREAM_UNKNOWN: 'No stream with that name has been created on this socket.',
  INLET_ERR_STREAM_DOM_ID: 'A stream item has no usable DOM id.',
  INLET_ERR_STREAM_CONFIGURE: 'A stream can only be configured once, before it is first used.',
  INLET_ERR_STREAM_OPTION: 'A stream option has an invalid value.',
  INLET_ERR_STREAM_ASSIGN: 'The `streams` assign belongs to Inlet.',
  INLET_ERR_JS_OPTION: 'A JS command got an invalid argument.',
  INLET_ERR_HOOK_SOURCE: 'A colocated hook or script cannot be sent to the browser.',
  INLET_ERR_VIEW_PATCH_LOOP: 'A view patched its own URL too many times in a row.',
  INLET_ERR_VIEW_CHILD: 'A child view cannot be rendered that way.',
  INLET_ERR_VIEW_ASYNC: 'An async operation was used incorrectly.',
} as const;

/**
 * An `INLET_ERR_*` code: the name of one entry of {@link ERROR_CODES}.
 * @example
 * try { createServer({ routes, maxChannels: -5 }) } catch (e) {
 *   const code: InletErrorCode = (e as InletError).code // 'INLET_ERR_CONFIG_OPTION'
 * }
 */
export type InletErrorCode = keyof typeof ERROR_CODES;

/**
 * The one error class Inlet throws. `code` is stable across releases.
 *
 * @example
 * try { socket.consumeUploadedEntries('photos', fn) }
 * catch (e) { if (e instanceof InletError && e.code === 'INLET_ERR_UPLOAD_NOT_DONE') … }
 */
export class InletError extends Error {
  readonly code: InletErrorCode;

  constructor(code: InletErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${ERROR_CODES[code]} ${detail}` : ERROR_CODES[code], options);
    this.name = 'InletError';
    this.code = code;
  }
}
