// The example app's routes and server options (shared by `npm start` and the tests).
import { fileURLToPath } from 'node:url';
import { liveSession } from 'inletjs';
import { Index } from './views/index.js';
import { Counter } from './views/counter.js';
import { Form } from './views/form.js';
import { PageOne, PageTwo } from './views/pages.js';
import { Rows } from './views/rows.js';
import { Components } from './views/components.js';
import { Streams } from './views/streams.js';
import { StreamComponents, StreamHealthy, StreamInsideFor, StreamLimit, StreamReset } from './views/streams-more.js';
import { RowsStream } from './views/rows-stream.js';
import { AsyncDemo, AsyncElsewhere } from './views/async.js';
import { ChildrenAdmin, ChildrenHome, ChildrenMissing, ChildrenOther } from './views/children.js';
import { Portals } from './views/portals.js';
import { JsCommands } from './views/js.js';
import { Hooks } from './views/hooks.js';
import { FormRecovery } from './views/forms.js';
import { ComponentTabs, ComponentTree, ComponentUpdates, ComponentUploads } from './views/components-more.js';
import { FormDetails, FormDynamic, formEcho, FormSelect, FormStream } from './views/forms-more.js';
import { createGallery, createLargeFiles } from './views/uploads.js';
import { createChunked, createDirectS3 } from './views/external.js';
import { createBatch } from './views/batch.js';
import { s3FromEnv } from './s3.js';

export const publicDir = fileURLToPath(new URL('./public/', import.meta.url));

/** Where saved uploads go by default: `examples/public/uploads` (served at /uploads/). */
export const defaultStoreRoot = publicDir;

/** The routes, with uploads stored under `storeRoot/uploads` (and `storeRoot/files`). */
export function exampleRoutes({ storeRoot = defaultStoreRoot, s3 = s3FromEnv() } = {}) {
  return {
    ...routes,
    '/uploads/chunked': createChunked({ dir: `${storeRoot}/chunked`, s3 }),
    '/uploads/s3': createDirectS3({ s3 }),
    '/uploads/gallery': createGallery({ dir: `${storeRoot}/uploads` }),
    '/uploads/auto': createGallery({ dir: `${storeRoot}/uploads`, auto: true }),
    '/uploads/large': createLargeFiles({ dir: `${storeRoot}/files` }),
    '/uploads/batch': createBatch({ dir: `${storeRoot}/batch` }),
  };
}

export const routes = {
  '/': Index,
  '/counter': Counter,
  '/form': Form,
  '/pages/one': PageOne,
  '/pages/two': PageTwo,
  '/rows': Rows,
  '/components': Components,
  '/streams': Streams,
  '/streams/reset': StreamReset,
  '/streams/limit': StreamLimit,
  '/streams/components': StreamComponents,
  '/streams/healthy/:category': StreamHealthy,
  '/streams/inside-for': StreamInsideFor,
  '/rows-stream': RowsStream,
  '/js': JsCommands,
  '/hooks': Hooks,
  '/forms/recovery': FormRecovery,
  '/forms/select': FormSelect,
  '/forms/dynamic': FormDynamic,
  '/forms/stream': FormStream,
  '/forms/details': FormDetails,
  '/components/updates': ComponentUpdates,
  '/components/tree': ComponentTree,
  '/components/tabs/:tab': ComponentTabs,
  '/components/uploads': ComponentUploads,
  '/async': AsyncDemo,
  '/async/elsewhere': AsyncElsewhere,
  '/children': ChildrenHome,
  '/children/other': ChildrenOther,
  '/children/missing': ChildrenMissing,
  '/portals': Portals,
  ...liveSession('admin', { '/children/admin': ChildrenAdmin }),
};

const styles = '<link rel="stylesheet" href="/app.css">';

/** Server options for the examples; `overrides` lets tests change them. */
export function exampleOptions(overrides = {}) {
  const { storeRoot = defaultStoreRoot, s3, ...rest } = overrides;
  overrides = rest;
  return {
    routes: exampleRoutes({ storeRoot, ...(s3 !== undefined ? { s3 } : {}) }),
    staticDirs: storeRoot === publicDir ? [publicDir] : [publicDir, storeRoot],
    layout: undefined,
    handler: formEcho,
    scripts: `${styles}<script type="module">import { connect } from "/inlet/inlet-client.js"; window.liveSocket = connect();</script>`,
    ...overrides,
  };
}
