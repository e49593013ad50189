/** Phoenix channel event names and reply statuses (protocol.md §1). */
export const CHANNEL_EVENTS = {
  JOIN: 'phx_join',
  LEAVE: 'phx_leave',
  REPLY: 'phx_reply',
  CLOSE: 'phx_close',
  ERROR: 'phx_error',
  HEARTBEAT: 'heartbeat',
} as const;

export const PHOENIX_TOPIC = 'phoenix';

/** Reasons the channel layer puts in error replies. */
export const CHANNEL_REASONS = {
  UNMATCHED_TOPIC: 'unmatched topic',
  TOO_MANY_CHANNELS: 'too many channels joined',
  MALFORMED: 'malformed frame',
  JOIN_CRASHED: 'join crashed',
  NOT_JOINED: 'not joined',
  CRASHED: 'channel_crash',
} as const;

/** WebSocket close codes the server uses. */
export const CLOSE_CODES = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  INVALID_PAYLOAD: 1007,
  POLICY: 1008,
  TOO_BIG: 1009,
} as const;
