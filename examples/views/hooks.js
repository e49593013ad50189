// Colocated hooks and scripts: browser code written beside the view that
// uses it and shipped with the page (no build step). Also the server's
// pushEvent to hooks, and replies to a hook's pushEvent.
import { clientScript, clientStyle, createLiveComponent, createLiveView, hook, html, JS, liveComponent } from 'inletjs';
import { nav } from './layout.js';

/** Formats ten digits as 123-456-7890 while typing. */
export const PhoneNumber = hook('PhoneNumber', {
  mounted() {
    this.el.addEventListener('input', () => {
      const match = this.el.value.replace(/\D/g, '').match(/^(\d{3})(\d{3})(\d{4})$/);
      if (match) this.el.value = `${match[1]}-${match[2]}-${match[3]}`;
    });
  },
});

/** Pushes "ping" and shows the server's reply. */
export const Ping = hook('Ping', {
  sent: 0,
  mounted() {
    this.el.addEventListener('click', async () => {
      this.sent += 1;
      const reply = await this.pushEvent('ping', { n: this.sent });
      this.el.textContent = `pong ${reply.n}`;
    });
  },
});

/** Shows what the server sends with socket.pushEvent('notice', …). */
export const Notice = hook('Notice', {
  mounted() {
    this.handleEvent('notice', ({ text }) => {
      this.el.textContent = text;
    });
  },
});

/** Asks the component it sits in, and shows the reply. */
export const Ask = hook('Ask', {
  mounted() {
    this.el.addEventListener('click', () => {
      this.pushEventTo(this.el, 'ask', { question: 'meaning' }, (reply) => {
        this.el.textContent = `answer ${reply.answer}`;
      });
    });
  },
});

/** A hook shipped inline in the template (the client's runtime hooks), not in the page's bundle. */
export const Runtime = hook('Runtime', {
  mounted() {
    this.js().show(this.el);
  },
});

/** Runs JS commands the server pushes as `js-exec` events (Phoenix's colocated JS example). */
export const ExecJs = clientScript('exec-js', (liveSocket) => {
  window.addEventListener('phx:js-exec', (e) => liveSocket.execJS(liveSocket.main.el, e.detail.cmd));
});

/** CSS beside the view, linked by every page as one stylesheet. */
export const HooksStyle = clientStyle('hooks-page', `.global-css { background-color: rgb(255, 0, 0); color: white; padding: .2rem .4rem; }`);

export const Oracle = createLiveComponent({
  hooks: [Ask],
  handleEvent: (event, socket) => {
    if (event.type === 'ask') socket.reply({ answer: 42, question: event.question });
  },
  render: (_a, { myself }) => html`<div id="oracle" data-target="${myself}"><button id="ask" phx-hook="${Ask}">ask the component</button></div>`,
});

export const Hooks = createLiveView({
  hooks: [PhoneNumber, Ping, Notice, ExecJs, HooksStyle],
  mount: (socket) => {
    socket.assign({ phone: '', phases: 0 });
    socket.pageTitle('Colocated hooks');
  },
  handleEvent: (event, socket) => {
    switch (event.type) {
      case 'submit-phone':
        return socket.assign({ phone: String(event.user?.phone_number ?? '') });
      case 'ping':
        return socket.reply({ n: Number(event.n) + 100 });
      case 'notify':
        return socket.pushEvent('notice', { text: `notice from the server at step ${Number(event.step ?? 1)}` });
      case 'phases':
        // Listeners of phase-before see the old count, those of phase-after the new one.
        socket.assign({ phases: socket.assigns.phases + 1 });
        socket.pushEvent('phase-before', {}, { dispatch: 'before' });
        return socket.pushEvent('phase-after', {});
      case 'push-js':
        return socket.pushEvent('js-exec', { cmd: JSON.stringify(JS.toggle({ to: '#hello' })) });
      default:
        return undefined;
    }
  },
  render: ({ phone, phases }) => html`${nav()}<main class="container">
<h1>Colocated hooks</h1>
<form phx-submit="submit-phone"><input type="text" name="user[phone_number]" id="user-phone-number" phx-hook="${PhoneNumber}" placeholder="10 digits"></form>
<p id="phone">${phone}</p>
<p><button id="ping" phx-hook="${Ping}">ping</button></p>
<p id="notice" phx-hook="${Notice}">no notice yet</p>
<button id="notify" phx-click="notify" phx-value-step="1">ask the server for a notice</button>
${liveComponent(Oracle, { id: 'oracle' })}
<div id="runtime" phx-hook="${Runtime.name}" style="display: none;">Runtime hook works!</div>${Runtime.inlineScript()}
<p><button id="phases" phx-click="phases">events before and after the patch</button> <span id="phase-count">${phases}</span></p>
<button id="push-js" phx-click="push-js">Push JS from the server</button>
<h2 id="hello">Hello!</h2>
<p id="global-css" class="global-css">Styled by colocated CSS</p>
</main>`,
});
