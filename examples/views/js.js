// JS commands: client-side operations written on the server. Most run in
// the browser with no round trip; push sends an event with extra options.
import { createLiveComponent, createLiveView, html, JS, liveComponent } from 'inletjs';
import { link, nav } from './layout.js';

const MODAL = '#my-modal';

/** A component that receives pushes targeted at it (`target: myself`). */
export const JsTarget = createLiveComponent({
  mount: (socket) => socket.assign({ hits: 0 }),
  handleEvent: (event, socket) => {
    if (event.type === 'hit') socket.assign({ hits: socket.assigns.hits + Number(event.by ?? 1) });
  },
  render: ({ hits }, { myself }) => html`<div id="js-target" class="stream-box">Component hits: <span id="hits">${hits}</span>
<button id="hit" phx-click="${JS.push('hit', { value: { by: 2 }, target: myself })}">Push to this component</button></div>`,
});

export const JsCommands = createLiveView({
  mount: (socket) => {
    socket.assign({ count: 0, clicks: 0, tab: 'one', slow: 0 });
    socket.pageTitle('JS commands');
  },
  handleParams: (url, socket) => socket.assign({ tab: url.searchParams.get('tab') ?? 'one' }),
  handleEvent: async (event, socket) => {
    switch (event.type) {
      case 'increment':
        return socket.assign({ clicks: socket.assigns.clicks + 1 });
      case 'add':
        return socket.assign({ count: socket.assigns.count + Number(event.by ?? 1) });
      case 'slow':
        await new Promise((r) => setTimeout(r, Number(event.ms ?? 300)));
        return socket.assign({ slow: socket.assigns.slow + 1 });
      default:
        return undefined;
    }
  },
  render: ({ count, clicks, tab, slow }) => html`${nav()}<main class="container">
<h1>JS commands</h1>
<section class="stream-box">
<h2>Show, hide, toggle, attributes</h2>
<div id="my-modal" aria-expanded="false" style="display: none;">Modal content</div>
<button phx-click="${JS.show({ to: MODAL, transition: 'fade-in', time: 50 })
    .setAttribute(['aria-expanded', 'true'], { to: MODAL })
    .setAttribute(['open', 'true'], { to: MODAL })}">show modal</button>
<button phx-click="${JS.hide({ to: MODAL, transition: 'fade-out', time: 50 })
    .setAttribute(['aria-expanded', 'false'], { to: MODAL })
    .removeAttribute('open', { to: MODAL })}">hide modal</button>
<button phx-click="${JS.toggle({ to: MODAL, in: 'fade-in', out: 'fade-out', time: 50 })
    .toggleAttribute(['aria-expanded', 'true', 'false'], { to: MODAL })
    .toggleAttribute(['open', 'true'], { to: MODAL })}">toggle modal</button>
<div id="closer" data-close="${JS.hide({ to: MODAL }).setAttribute(['aria-expanded', 'false'], { to: MODAL })}"></div>
<button phx-click="${JS.exec('data-close', { to: '#closer' })}">exec close</button>
</section>
<section class="stream-box">
<h2>Classes and transitions</h2>
<div id="box" class="box">Box</div>
<button phx-click="${JS.addClass('highlight big', { to: '#box' })}">add class</button>
<button phx-click="${JS.removeClass('highlight', { to: '#box' })}">remove class</button>
<button phx-click="${JS.toggleClass('dim', { to: '#box' })}">toggle class</button>
<button phx-click="${JS.transition('shake', { to: '#box', time: 300 })}">shake</button>
<ul id="scoped"><li><button phx-click="${JS.addClass('picked', { to: { closest: 'li' } })}">pick my row</button></li>
<li><button phx-click="${JS.addClass('picked', { to: { closest: 'li' } })}">pick this one</button></li></ul>
</section>
<section class="stream-box">
<h2>Kept across patches</h2>
<details phx-mounted="${JS.ignoreAttributes(['open'])}"><summary>Details</summary>
<button id="increment" phx-click="increment">${clicks}</button></details>
</section>
<section class="stream-box">
<h2>Push, with options</h2>
<p>Count: <span id="count">${count}</span> · slow replies: <span id="slow">${slow}</span></p>
<button id="add5" phx-click="${JS.push('add', { value: { by: 5 } })}">add 5</button>
<button id="add-and-blink" phx-click="${JS.push('add', { value: { by: 1 } }).transition('blink', { to: '#count', time: 200 })}">add 1 and blink</button>
<button id="slow-loading" phx-click="${JS.push('slow', { value: { ms: 400 }, loading: '#count' })}">slow, #count loading</button>
<button id="slow-page" phx-click="${JS.push('slow', { value: { ms: 400 }, pageLoading: true })}">slow, page loading</button>
</section>
<section class="stream-box">
<h2>Dispatch</h2>
<input id="copy-src" value="copied text">
<button id="dispatch" phx-click="${JS.dispatch('app:copy', { to: '#copy-src', detail: { via: 'JS.dispatch' } })}">dispatch app:copy</button>
</section>
<section class="stream-box">
<h2>Navigation</h2>
<p>Tab: <span id="tab">${tab}</span></p>
<button id="patch" phx-click="${JS.patch('/js?tab=two')}">patch to tab two</button>
<button id="patch-replace" phx-click="${JS.patch('/js?tab=three', { replace: true })}">patch to tab three (replace)</button>
<button id="navigate" phx-click="${JS.navigate('/counter')}">navigate to the counter</button>
</section>
<section class="stream-box">
<h2>Focus</h2>
<input id="name" placeholder="name">
<button id="focus-name" phx-click="${JS.focus({ to: '#name' })}">focus the name</button>
<button id="open-dialog" phx-click="${JS.pushFocus().show({ to: '#dialog', time: 0 }).focusFirst({ to: '#dialog' })}">open dialog</button>
<div id="dialog" style="display: none;"><p>Dialog</p><input id="dialog-first"><button id="close-dialog" phx-click="${JS.hide({ to: '#dialog', time: 0 }).popFocus()}">close</button></div>
</section>
${liveComponent(JsTarget, { id: 'js-target' })}
<p>${link('/hooks', 'Colocated hooks')}</p>
</main>`,
});
