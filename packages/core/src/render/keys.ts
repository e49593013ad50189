/**
 * The rendered-tree keys of the LiveView wire format (protocol.md §3.1), in one place.
 */
export const DIFF = {
  STATIC: 's',
  ROOT: 'r',
  REPLY: 'r',
  KEYED: 'k',
  KEYED_COUNT: 'kc',
  KEYED_MOVED: 'km',
  TEMPLATES: 'p',
  COMPONENTS: 'c',
  TITLE: 't',
  EVENTS: 'e',
  STREAM: 'stream',
} as const;

/** A rendered node or diff as it travels on the wire. */
export type WireValue = string | number | WireObject;
export interface WireObject {
  [key: string]: WireValue | readonly string[] | readonly unknown[] | boolean | undefined;
}
