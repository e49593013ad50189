/**
 * JSON values, as shared state crosses processes as JSON.
 *
 * @example
 * const value: JsonValue = { tags: ['a', 'b'], size: 12, done: false, note: null }
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/**
 * A JSON object.
 *
 * @example
 * const owner: JsonObject = { viewId: 'phx-F1', confRef: 'phx-F1-0', entryRef: '0' }
 * await states.create(id, { maxSize: 1e9, expiresAt: Date.now() + 60_000, owner })
 */
export type JsonObject = { [key: string]: JsonValue };
