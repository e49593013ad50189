// The example app's routes and server options (shared by `npm start` and the tests).
import { fileURLToPath } from 'node:url';
import { Index } from './views/index.js';
import { Counter } from './views/counter.js';
import { Form } from './views/form.js';
import { PageOne, PageTwo } from './views/pages.js';
import { Rows } from './views/rows.js';
import { Components } from './views/components.js';

export const publicDir = fileURLToPath(new URL('./public/', import.meta.url));

export const routes = {
  '/': Index,
  '/counter': Counter,
  '/form': Form,
  '/pages/one': PageOne,
  '/pages/two': PageTwo,
  '/rows': Rows,
  '/components': Components,
};

const styles = '<link rel="stylesheet" href="/app.css">';

/** Server options for the examples; `overrides` lets tests change them. */
export function exampleOptions(overrides = {}) {
  return {
    routes,
    staticDirs: [publicDir],
    layout: undefined,
    scripts: `${styles}<script type="module">import { connect } from "/inlet/inlet-client.js"; window.liveSocket = connect();</script>`,
    ...overrides,
  };
}
