// Forms and what the official client does with them: recovery after a
// reconnect (the default, phx-auto-recover with a custom event, forms in a
// component or a portal), _unused_ fields, loading and locked states,
// submit buttons with phx-click. Query parameters switch the variants, as in
// Phoenix's own form test page: ?live-component, ?portal, ?no-id,
// ?no-change-event, ?js-change, ?phx-auto-recover=<event>,
// ?disabled-fieldset=true, ?phx-no-unused-field-form, ?phx-no-unused-field-input.
import { attrs, createLiveComponent, createLiveView, html, JS, liveComponent, optionsForSelect, portal } from 'inletjs';
import { gate } from './gate.js';
import { nav } from './layout.js';

const DEFAULTS = { a: 'foo', b: 'bar', c: 'baz', id: 'test-form', 'phx-change': 'validate' };

/** The form's params: the defaults, overridden by the query, then the switches. */
function initialParams(query) {
  const params = { ...DEFAULTS, ...query };
  if ('no-id' in query) delete params.id;
  if ('no-change-event' in query) delete params['phx-change'];
  if ('js-change' in query) params['phx-change'] = JS.push('validate');
  return params;
}

/** Form fields merged into the params (the event name and the key path of the change are not fields). */
function merge(params, event) {
  const { _target: _t, ...fields } = event.params;
  return { ...params, ...fields };
}

/** The events both the view and the component answer. */
async function formEvent(event, socket) {
  if (socket.assigns.gated && event.type !== 'ping') await gate.acquire(event.type);
  switch (event.type) {
    case 'validate':
      return socket.assign({ params: merge(socket.assigns.params, event) });
    case 'save':
      return socket.assign({ submitted: true });
    case 'custom-recovery':
      return socket.assign({ params: { ...socket.assigns.params, b: 'custom value from server' } });
    case 'patch-recovery':
      return socket.pushPatch('/forms/recovery?patched=true');
    default:
      return undefined;
  }
}

/** The form itself; `target` is the component's cid when a component renders it. */
export const recoveryForm = (p, target) => html`<form${attrs({
  id: p.id,
  'phx-submit': 'save',
  'phx-change': p['phx-change'],
  'phx-auto-recover': p['phx-auto-recover'],
  'phx-no-unused-field': p['phx-no-unused-field-form'],
  'phx-target': target,
  class: 'myformclass',
})}>
<fieldset${attrs({ disabled: p['disabled-fieldset'] })}>
<input type="text" name="a" readonly value="${p.a}">
<input type="text" name="b" value="${p.b}">
</fieldset>
<input${attrs({ type: 'text', name: 'c', value: p.c, 'phx-no-unused-field': p['phx-no-unused-field-input'] })}>
<select name="d">${optionsForSelect(['foo', 'bar', 'baz'], p.d)}</select>
${p.id ? html`<input${attrs({ type: 'text', name: 'e', form: p.id, value: p.e })}>` : ''}
<button type="submit" phx-disable-with="Submitting" phx-click="${JS.dispatch('test')}">Submit with JS</button>
<button id="submit" type="submit" phx-disable-with="Submitting">Submit</button>
<button type="button" phx-click="button-test" phx-disable-with="Loading">Non-form Button</button>
</form>
${p.id ? html`<input${attrs({ type: 'text', name: 'f', form: p.id, value: p.f })}>` : ''}`;

/** The same form owned by a component: its events carry the component's cid. */
export const RecoveryFormComponent = createLiveComponent({
  mount: (socket) => socket.assign({ submitted: false }),
  handleEvent: (event, socket) => formEvent(event, socket),
  render: ({ params, submitted }, { myself }) => html`<div>
${recoveryForm(params, myself)}
${submitted ? html`<p>LC Form was submitted!</p>` : ''}
</div>`,
});

const formOrComponent = (params, gated) =>
  'live-component' in params ? liveComponent(RecoveryFormComponent, { id: 'form-component', params, gated }) : recoveryForm(params);

export const FormRecovery = createLiveView({
  mount: (socket, _session, query) => {
    socket.assign({ params: initialParams(query), submitted: false, gated: 'gate' in query });
    socket.pageTitle('Form recovery');
  },
  handleEvent: (event, socket) => formEvent(event, socket),
  render: ({ params, submitted, gated }) => html`${nav()}<main class="container">
${'portal' in params ? html`<h1>Form</h1>${portal({ id: 'form-portal', target: 'body' }, formOrComponent(params, gated))}` : formOrComponent(params, gated)}
${submitted ? html`<p>Form was submitted!</p>` : ''}
<p class="hint">Type, then reconnect (the client recovers the form by sending its values as a change event).</p>
</main>`,
});
