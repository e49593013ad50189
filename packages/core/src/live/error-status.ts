/**
 * The HTTP status an exception stands for. A view that throws during its
 * HTTP render answers with this status; one that throws a 4xx during its
 * connected mount makes the client reload the page, which then answers with
 * the same status (Phoenix's `Plug.Exception` and `ReloadError`).
 */

/** Reason phrases for the statuses Inlet's error pages use. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * An error that carries the HTTP status it should produce.
 *
 * @example
 * mount: async (socket, _session, params) => {
 *   const post = await db.post(params.id)
 *   if (!post) throw new HttpError(404, `no post ${params.id}`)
 *   socket.assign({ post })
 * }
 */
export class HttpError extends Error {
  readonly status: number;

  constructor(status: number, message?: string, options?: { cause?: unknown }) {
    super(message ?? STATUS_TEXT[status] ?? `HTTP ${status}`, options);
    this.name = 'HttpError';
    this.status = Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
  }
}

/**
 * The status of an error: its `status` or `statusCode` when that is an
 * integer from 400 to 599 (so `http-errors` and framework errors work too), else 500.
 *
 * @example
 * errorStatus(new HttpError(404)) // 404
 * errorStatus(new Error('boom'))  // 500
 */
export function errorStatus(error: unknown): number {
  if (typeof error === 'object' && error !== null) {
    const e = error as { status?: unknown; statusCode?: unknown };
    for (const v of [e.status, e.statusCode]) if (typeof v === 'number' && Number.isInteger(v) && v >= 400 && v <= 599) return v;
  }
  return 500;
}

/** The reason phrase of a status (`"Error"` for unknown ones). */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
}
