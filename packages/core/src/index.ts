/**
 * Inlet: a LiveView server for Node.js, wire-compatible with the official
 * Phoenix LiveView client. This module is the documented facade.
 */
export { InletError, ERROR_CODES, type InletErrorCode } from './errors.js';
export { html, safe, repeat, Template, SafeHtml, Repeat } from './render/template.js';
export { escapeHtml } from './render/escape.js';
export {
  JS,
  type JSCommand,
  type JSTarget,
  type JSTransition,
  type PushTarget,
  type PushOptions,
  type ShowOptions,
  type HideOptions,
  type ToggleOptions,
  type ClassOptions,
  type TransitionOptions,
  type ToOptions,
  type DispatchOptions,
  type NavigateOptions,
} from './render/js.js';
export {
  hook,
  clientScript,
  clientStyle,
  ColocatedHook,
  ColocatedScript,
  ColocatedStyle,
  type Colocated,
  type HookContext,
  type HookCallbacks,
  type HookElement,
  type HookReply,
  type LooseElement,
} from './render/colocated.js';
export { COLOCATED_PATH, COLOCATED_CSS_PATH } from './live/colocated.js';
export { renderToString } from './render/tree.js';
export { attrs, optionsForSelect, type SelectOption } from './render/attrs.js';
export { portal, focusWrap, formTag, type PortalOptions, type FormTagOptions } from './render/components.js';
export { toForm, usedInput, inputsFor, Form, type FormField, type FormOptions, type FormErrors, type InputsForOptions } from './live/form.js';
export {
  createLiveView,
  createLiveComponent,
  liveComponent,
  type LiveView,
  type LiveViewDefinition,
  type LiveComponent,
  type LiveComponentDefinition,
  type ComponentSocket,
  type LiveEvent,
  type RenderMeta,
  type RenderContext,
  type Session,
} from './live/view.js';
export { LiveViewSocket, type PushEventOptions, type Flash, type SocketAssigns, type StreamsOf, type StreamName, type StreamItem } from './live/socket.js';
export {
  LiveStream,
  StreamRender,
  type StreamOptions,
  type StreamInsertOptions,
  type StreamConfig,
} from './render/stream.js';
export { MemoryPubSub, type PubSub, type Subscriber, type Unsubscribe } from './live/pubsub.js';
export { decodeForm, targetPath, type Params } from './live/params.js';
export {
  liveRoute,
  liveSession,
  DEFAULT_LIVE_SESSION,
  type LiveRoute,
  type RouteOptions,
  type LiveSessionOptions,
  type OnMount,
  type Container,
} from './live/router.js';
export { liveRender, type LiveRenderOptions } from './live/children.js';
export { HttpError, errorStatus } from './live/error-status.js';
export {
  AsyncResult,
  asyncResult,
  type AsyncOutcome,
  type AsyncFn,
  type AsyncValue,
  type AssignAsyncOptions,
  type AsyncResultSlots,
} from './live/async.js';
export { defaultLayout, type Layout, type LayoutContext } from './live/app.js';
export {
  postpone,
  type UploadConfigOptions,
  type UploadEntry,
  type UploadConfigView,
  type UploadErrorReason,
  type ConsumeMeta,
  type ExternalMeta,
  type Postponed,
} from './uploads/socket-api.js';
export {
  live_file_input,
  liveFileInput,
  live_img_preview,
  liveImgPreview,
  uploadErrors,
  uploadErrorMessages,
  DEFAULT_UPLOAD_MESSAGES,
  type UploadMessage,
  type Attrs,
} from './uploads/helpers.js';
export { TmpFileWriter, MemoryWriter, type UploadWriter, type CloseReason } from './uploads/writer.js';
export { sanitizeFilename, safeJoin, fileSystem, type FileSystemHelpers } from './uploads/file-system.js';
export {
  DEFAULT_MAX_FILE_SIZE,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_CHUNK_TIMEOUT,
  MIN_AUTO_CHUNK_SIZE,
  MAX_AUTO_CHUNK_SIZE,
  autoChunkSize,
  autoChunkTimeout,
} from './uploads/config.js';
export { chunkedUpload, DEFAULT_CHUNKED_CHUNK_KIB, type ChunkedUploadOptions } from './uploads/chunked.js';
export {
  TransientStoreError,
  StoreOffsetError,
  STORE_CAPABILITIES,
  chunkFromBuffer,
  readChunk,
  isTransientStoreError,
  storeCan,
  type UploadStore,
  type UploadRecord,
  type StoredUpload,
  type StoreCapability,
  type ChunkBody,
} from './uploads/store.js';
export { DiskStore, DISK_WRITE_BATCH_BYTES, type DiskStoreOptions, type DiskUploadMeta } from './uploads/disk-store.js';
export { MemoryStore, DEFAULT_MEMORY_STORE_BYTES, type MemoryStoreOptions } from './uploads/memory-store.js';
export {
  MemoryResumeSessionStore,
  type ResumeSessionStore,
  type ResumeSession,
  type ResumeKey,
  type ResumeLimits,
  type AddResult,
} from './uploads/resume/session-store.js';
export {
  DEFAULT_RESUME_TTL_MS,
  DEFAULT_RESUME_PER_BROWSER,
  DEFAULT_RESUME_TOTAL,
  type ResumeOptions,
} from './uploads/resume/registry.js';
export { InletOptionError } from './options.js';
export {
  createLogger,
  silentLogger,
  LOG_LEVELS,
  DEFAULT_LOG_LEVEL,
  type Logger,
  type LoggerOption,
  type LogLevel,
  type LogContext,
  type LogMethod,
  type LogFunction,
} from './logger.js';
export {
  DEFAULT_LOCK_TTL_MS,
  MemoryLocker,
  MemoryQuotaCounter,
  MemoryUploadStateStore,
  checkQuotaAmount,
  quotaRefusal,
  lockToken,
  type ClaimResult,
  type CommitResult,
  type EndedState,
  type JsonObject,
  type JsonValue,
  type Lease,
  type NewUploadRecord,
  type QuotaCounter,
  type QuotaLimits,
  type QuotaResult,
  type QuotaUsage,
  type ReadOptions,
  type UploadChange,
  type UploadLocker,
  type UploadQuota,
  type UploadPart,
  type UploadStateRecord,
  type UploadState,
  type UploadStateStore,
} from './uploads/cluster/index.js';
export { link, navigateLink, patchLink, type LinkOptions, type AttrValue } from './render/link.js';
export type { EventMap, LiveEventOf } from './live/view.js';
export {
  TRACING,
  CHANNEL_NAMES,
  uploadErrorChannel,
  type MountContext,
  type EventContext,
  type RenderTraceContext,
  type PreflightContext,
  type ChunkContext,
  type CompleteContext,
  type ReceiverRequestContext,
  type UploadErrorMessage,
} from './telemetry/channels.js';
