// Who gets the organization's alert emails: a stream that stops delivering (refused, or failing for a while), refuses
// an event, or recovers. Shown under the streams; the addresses are saved as a whole list.

import { api } from './api.js';
import { h } from './dom.js';

/**
 * The alert contacts panel, filled with the saved addresses. `onFailure(error)` handles what the panel cannot show
 * itself (an expired session).
 */
export function alertContactsPanel({ emails }, onFailure) {
  const field = h('textarea', {
    id: 'alert-emails', name: 'emails', rows: '3', testid: 'alert-emails', 'aria-describedby': 'alert-emails-help',
    autocomplete: 'email', spellcheck: 'false',
  });
  field.value = emails.join('\n');
  const errors = h('ul', { class: 'field-errors', testid: 'alert-errors', 'aria-live': 'polite' });
  const saved = h('p', { class: 'saved', role: 'status', testid: 'alert-saved' });
  const button = h('button', { type: 'submit', class: 'button', testid: 'save-alert-contacts' }, 'Save contacts');

  async function save(event) {
    event.preventDefault();
    errors.replaceChildren();
    field.removeAttribute('aria-invalid');
    saved.textContent = '';
    const list = field.value.split(/[\n,;]+/).map((email) => email.trim()).filter(Boolean);
    button.disabled = true;
    try {
      const answer = await api('PUT', '/alert_contacts', { emails: list });
      field.value = answer.emails.join('\n');
      saved.textContent = answer.emails.length ? 'Saved.' : 'Saved: no one gets alert emails.';
    } catch (error) {
      if (error.status === 422) {
        errors.replaceChildren(...error.fieldErrors.map((e) => h('li', {}, describe(e, list))));
        field.setAttribute('aria-invalid', 'true');
      } else {
        onFailure(error);
      }
    } finally {
      button.disabled = false;
    }
  }

  return h('section', { class: 'panel alert-contacts', 'aria-labelledby': 'alert-contacts-title' },
    h('h3', { id: 'alert-contacts-title' }, 'Alert contacts'),
    h('p', { id: 'alert-emails-help' }, 'These addresses get an email when a stream stops delivering, keeps failing, '
      + 'refuses an event, or works again. One address per line, up to 10.'),
    h('form', { onsubmit: save, novalidate: true },
      h('label', { for: 'alert-emails' }, 'Email addresses'),
      field, errors,
      h('div', { class: 'form-actions' }, button, saved)));
}

/** "emails[1]" names the second address: say which one. */
function describe(error, list) {
  const index = /^emails\[(\d+)\]$/.exec(error.field ?? '');
  return index ? `${list[Number(index[1])] ?? ''}: ${error.message}` : error.message;
}

/** The saved contacts, for the panel. */
export function loadAlertContacts() {
  return api('GET', '/alert_contacts');
}
