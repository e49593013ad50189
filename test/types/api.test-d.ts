/**
 * Type tests (checked by `tsc -p tsconfig.test.json`, which CI runs; never
 * executed): what a TypeScript user writes compiles without casts, and the
 * mistakes the types exist for do not.
 */
import type { IncomingMessage } from 'node:http';
import { createLiveView, html, link, live_file_input, type LayoutContext, type LiveViewSocket, type Session, type UploadEntry } from 'inletjs';
import { createServer, type InletServer } from 'inletjs/node';
import { connect, pauseUpload, uploadStatus, Uploaders, type Uploader, type UploadStatus } from '@inletjs/client';
import type { LiveSocket } from 'phoenix_live_view';
import { expectTypeOf } from 'vitest';

type Assigns = { name: string; saved: string[] };
type Events = {
  save: { user: { name: string; email: string } };
  validate: { user: { name: string }; _target: string };
  inc: { by?: string };
};

export const Profile = createLiveView<Assigns, { refresh: true }, Events, 'avatar' | 'docs'>({
  mount: (socket) => {
    socket.assign({ name: '', saved: [] });
    socket.allowUpload('avatar', {
      accept: ['image/*'],
      // The progress callback's socket is the view's own socket: consume right here.
      progress: async (name, entry, s) => {
        expectTypeOf(name).toEqualTypeOf<'avatar'>();
        expectTypeOf(s).toEqualTypeOf<LiveViewSocket<Assigns, 'avatar' | 'docs'>>();
        expectTypeOf(s.assigns.saved).toEqualTypeOf<string[]>();
        if (entry.done) {
          const path = await s.consumeUploadedEntry(name, entry, async (meta) => meta.path);
          s.assign({ saved: [...s.assigns.saved, path] });
        }
      },
    });
    // @ts-expect-error: 'photo' is not an upload this view declares
    socket.allowUpload('photo');
  },
  handleEvent: (event, socket) => {
    expectTypeOf(event.type).toEqualTypeOf<'save' | 'validate' | 'inc'>();
    if (event.type === 'save') {
      // A form field, no cast.
      expectTypeOf(event.user.email).toEqualTypeOf<string>();
      socket.assign({ name: event.user.name });
    } else if (event.type === 'inc') {
      expectTypeOf(event.by).toEqualTypeOf<string | undefined>();
      // @ts-expect-error: inc carries no user
      void event.user;
    }
  },
  handleInfo: (info) => {
    expectTypeOf(info).toEqualTypeOf<{ refresh: true }>();
  },
  render: ({ name }, { uploads }) => {
    // Declared upload names are never possibly-undefined.
    expectTypeOf(uploads.avatar.entries).toEqualTypeOf<readonly UploadEntry[]>();
    // @ts-expect-error: not declared
    void uploads.photo;
    return html`<form phx-submit="save">${live_file_input(uploads.avatar)}${name}</form>
      ${link({ navigate: '/users' }, 'Users')} ${link({ patch: '?tab=2', replace: true }, 'Tab 2')}`;
  },
});

// Views without type parameters keep working as before: any event name, any field as unknown.
export const Loose = createLiveView({
  handleEvent: (event, socket) => {
    expectTypeOf(event.type).toEqualTypeOf<string>();
    expectTypeOf(event.anything).toEqualTypeOf<unknown>();
    socket.assign({ x: 1 });
  },
  render: (_a, { uploads }) => {
    expectTypeOf(uploads.any).toEqualTypeOf<import('inletjs').UploadConfigView | undefined>();
    return html``;
  },
});

// The layout gets the request and the session.
const layout = (ctx: LayoutContext): string => {
  expectTypeOf(ctx.session).toEqualTypeOf<Session>();
  expectTypeOf(ctx.request).toEqualTypeOf<IncomingMessage | undefined>();
  expectTypeOf(ctx.url).toEqualTypeOf<URL>();
  return `<header>${String(ctx.session.user ?? '')}</header>${ctx.content}${ctx.scripts}`;
};
export const server: InletServer = createServer({ routes: { '/': Profile, '/loose': Loose }, layout });

// @inletjs/client ships declarations.
const mine: Uploader = (entries) => entries.forEach((e) => e.progress(100));
expectTypeOf(connect({ hooks: {}, uploaders: { Mine: mine } })).toEqualTypeOf<LiveSocket>();
expectTypeOf(pauseUpload('0')).toEqualTypeOf<boolean>();
expectTypeOf(uploadStatus('0')).toEqualTypeOf<UploadStatus | undefined>();
expectTypeOf(Uploaders.UpChunk).toEqualTypeOf<Uploader>();
