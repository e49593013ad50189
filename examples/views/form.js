// A validated sign-up form: errors as you type (phx-change), a flash on submit.
import { createLiveView, html } from 'inletjs';
import { flashes, nav } from './layout.js';

function validate({ name = '', email = '' }) {
  const errors = {};
  if (name.trim().length < 2) errors.name = 'Name must be at least 2 characters.';
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) errors.email = 'Enter a valid email address.';
  return errors;
}

const field = (name, label, value, error, touched) => html`<label for="user_${name}">${label}</label>
<input id="user_${name}" name="user[${name}]" value="${value}" phx-debounce="100" aria-invalid="${touched && error ? 'true' : 'false'}">
${touched && error ? html`<p class="error" id="${name}-error">${error}</p>` : ''}`;

export const Form = createLiveView({
  mount: (socket) => {
    socket.assign({ user: { name: '', email: '' }, errors: {}, touched: {}, saved: [] });
    socket.pageTitle('Validated form');
  },
  handleEvent: (event, socket) => {
    const user = { name: '', email: '', ...(event.user ?? {}) };
    const errors = validate(user);
    if (event.type === 'validate') {
      const touched = { ...socket.assigns.touched };
      for (const key of Object.keys(user)) if (user[key] !== '') touched[key] = true;
      socket.assign({ user, errors, touched });
    } else if (event.type === 'save') {
      if (Object.keys(errors).length > 0) {
        socket.assign({ user, errors, touched: { name: true, email: true } });
        socket.putFlash('error', 'Please fix the errors below.');
        return;
      }
      socket.assign({ user: { name: '', email: '' }, errors: {}, touched: {}, saved: [...socket.assigns.saved, user] });
      socket.clearFlash('error');
      socket.putFlash('info', `Welcome, ${user.name}!`);
    }
  },
  render: ({ user, errors, touched, saved, flash }) => html`${nav()}<main class="container">
<h1>Validated form</h1>
${flashes(flash)}
<form id="signup" phx-change="validate" phx-submit="save">
${field('name', 'Name', user.name, errors.name, touched.name)}
${field('email', 'Email', user.email, errors.email, touched.email)}
<button type="submit" ${Object.keys(errors).length > 0 ? 'disabled' : ''}>Sign up</button>
</form>
<h2>Signed up</h2>
<ul id="saved">${saved.map((u) => html`<li>${u.name} &lt;${u.email}&gt;</li>`)}</ul>
</main>`,
});
