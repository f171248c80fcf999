// The form that adds a stream of one destination, or edits one. Secrets are never prefilled: on edit an empty
// secret keeps the stored one. Field errors, the form's own or the service's 422, show next to their field.

import { h } from './dom.js';
import { valueAt } from './destinations.js';

const NAME = { name: 'name', label: 'Stream name', help: 'Helps you tell your streams apart.', testid: 'field-name' };
const ACTIONS = {
  name: 'actions', label: 'Only these actions', placeholder: 'user.*, billing.invoice_paid', testid: 'field-filters-actions',
  help: 'Comma-separated action names; * matches any characters. Leave empty to stream every event.',
};

function setPath(object, path, value) {
  const keys = path.split('.');
  const last = keys.pop();
  const parent = keys.reduce((node, key) => (node[key] ??= {}), object);
  parent[last] = value;
}

export class StreamForm {
  /**
   * @param dest one of DESTINATIONS
   * @param stream the stream to edit, or null to add one
   * @param onSubmit async (body) => …, called with the POST or PATCH body; a 422 it throws lands on the fields
   * @param onFailure (error) => …, for any other failure
   * @param onCheck (body) => the test send's answer, for a config not saved yet; absent: no "Check connection"
   */
  constructor(dest, stream, { onSubmit, onFailure, onCheck, cancelHref }) {
    this.dest = dest;
    this.stream = stream;
    this.stored = stream ? stream.config : {};
    this.fields = new Map(); // by the service's error field: 'name', 'config.url', 'config.auth.token', 'filters.actions'
    this.onSubmit = onSubmit;
    this.onFailure = onFailure;
    this.onCheck = onCheck;

    this.summary = h('div', { class: 'error-summary', role: 'alert', tabindex: '-1', hidden: true });
    this.saveButton = h('button', { type: 'submit', class: 'button primary', testid: 'save-stream' },
      stream ? 'Save changes' : 'Save stream');
    this.element = h('form', {
      class: 'stream-form',
      novalidate: true,
      onsubmit: (event) => {
        event.preventDefault();
        this.submit();
      },
      onchange: () => this.refresh(),
    },
    this.summary,
    this.field(NAME, 'name', stream && stream.name !== stream.type ? stream.name ?? '' : ''),
    h('fieldset', { class: 'group' },
      h('legend', {}, `${dest.label} connection`),
      dest.fields.map((spec) => this.field(spec, `config.${spec.name}`, this.initial(spec)))),
    this.field(ACTIONS, 'filters.actions', stream?.filters?.actions?.join(', ') ?? ''),
    h('div', { class: 'form-actions' }, this.saveButton, h('a', { class: 'button', href: cancelHref }, 'Cancel')));
    this.checkResult = h('div', { class: 'test-result', testid: 'check-result', role: 'status', hidden: true });
    this.checkButton = onCheck && h('button', { type: 'button', class: 'button', testid: 'check-stream',
      onclick: () => this.check() }, 'Check connection');
    this.element.append(this.checkResult);
    this.element.querySelector('.form-actions').prepend(...(this.checkButton ? [this.checkButton] : []));
    this.refresh();
  }

  initial(spec) {
    if (spec.initial && this.stream) return spec.initial(this.stored);
    if (spec.secret) return '';
    return valueAt(this.stored, spec.name) ?? spec.default ?? '';
  }

  /** One labelled control with its help and error lines. */
  field(spec, key, value) {
    const id = `field-${key.replaceAll('.', '-')}`;
    const testid = spec.testid ?? `field-${spec.name.replaceAll('.', '-')}`;
    const stored = spec.secret ? valueAt(this.stored, spec.name) : null;
    const help = [stored && `Stored: ${stored}. Leave empty to keep it.`, spec.help].filter(Boolean).join(' ');
    const optional = !spec.required && !spec.options && spec.default === undefined;
    const message = h('p', { id: `${id}-error`, class: 'field-error', hidden: true });
    const helpLine = help ? h('p', { id: `${id}-help`, class: 'help' }, help) : null;
    const describedBy = [helpLine && helpLine.id, message.id].filter(Boolean).join(' ');

    let control;
    let read;
    let wrapper;
    if (spec.kind === 'radio') {
      const radios = spec.options.map(([option, label]) => {
        const radio = h('input', { type: 'radio', id: `${id}-${option}`, name: id, value: option,
          checked: option === value, testid: `${testid}-${option}` });
        return h('div', { class: 'choice' }, radio, h('label', { for: radio.id }, label));
      });
      control = radios[0].firstChild;
      read = () => this.element.querySelector(`input[name="${id}"]:checked`).value;
      wrapper = h('fieldset', { class: 'field radios' }, h('legend', {}, spec.label), radios);
    } else {
      const common = { id, testid, 'aria-describedby': describedBy, 'aria-required': spec.required && !stored ? 'true' : null };
      if (spec.kind === 'select') {
        control = h('select', common,
          spec.options.map(([option, label]) => h('option', { value: option, selected: option === value }, label)));
      } else if (spec.kind === 'textarea') {
        control = h('textarea', { ...common, rows: 6, spellcheck: 'false', placeholder: spec.placeholder });
        control.value = value;
      } else {
        control = h('input', {
          ...common,
          type: spec.secret ? 'password' : spec.kind === 'url' ? 'url' : 'text',
          value,
          placeholder: spec.placeholder,
          inputmode: spec.inputmode,
          autocomplete: spec.secret ? 'new-password' : 'off',
          spellcheck: 'false',
        });
      }
      read = () => control.value.trim();
      wrapper = h('div', { class: 'field' },
        h('label', { for: id }, spec.label, optional ? h('span', { class: 'optional' }, ' (optional)') : null),
        control, helpLine, message);
    }
    this.fields.set(key, { spec, key, wrapper, control, message, read, stored, config: key.startsWith('config.') });
    return wrapper;
  }

  /** The current values of the config fields, by name, for the fields' `when`. */
  values() {
    const values = {};
    for (const field of this.fields.values()) if (field.config) values[field.spec.name] = field.read();
    return values;
  }

  /** Shows only the fields that apply to the current choices (authentication type, kind of credentials). */
  refresh() {
    const values = this.values();
    for (const { spec, wrapper } of this.fields.values()) {
      if (spec.when) wrapper.hidden = !spec.when(values);
    }
  }

  visible() {
    return [...this.fields.values()].filter((field) => !field.wrapper.hidden);
  }

  /** The body for POST /streams (adding) or PATCH /streams/{id} (editing). */
  body() {
    const config = {};
    for (const field of this.fields.values()) {
      if (!field.config || field.spec.local) continue;
      const value = field.wrapper.hidden ? '' : field.read();
      if (value) {
        setPath(config, field.spec.name, value);
      } else if (valueAt(this.stored, field.spec.name) != null && !(field.spec.secret && !field.wrapper.hidden)) {
        setPath(config, field.spec.name, null); // cleared, or no longer used: null removes it
      }
    }
    const actions = this.fields.get('filters.actions').read().split(',').map((a) => a.trim()).filter(Boolean);
    const name = this.fields.get('name').read();
    const body = {};
    if (!this.stream) body.type = this.dest.type;
    if (name) body.name = name;
    body.config = config;
    if (actions.length || this.stream) body.filters = actions.length ? { actions } : {};
    return body;
  }

  /** Required fields left empty (a stored secret counts as filled). */
  missing() {
    return this.visible()
      .filter(({ spec, stored, read }) => spec.required && !stored && !read())
      .map(({ key, spec }) => ({ field: key, message: `${spec.label} is required.` }));
  }

  /** Puts each error next to its field; what matches no field stays in the summary. Focuses the first. */
  showErrors(errors) {
    this.summary.hidden = errors.length === 0;
    this.summary.replaceChildren();
    for (const { control, message } of this.fields.values()) {
      control.removeAttribute('aria-invalid');
      message.hidden = true;
      message.textContent = '';
    }
    if (errors.length === 0) return;

    let first = null;
    const texts = errors.map((error) => {
      const field = this.fields.get(String(error.field).replace(/\[\d+\]$/, ''));
      if (!field || field.wrapper.hidden) return error.message;
      const text = String(error.message).replace(error.field, field.spec.label);
      field.message.textContent = text;
      field.message.hidden = false;
      field.control.setAttribute('aria-invalid', 'true');
      first ??= field.control;
      return text;
    });
    this.summary.append(
      h('p', {}, this.stream ? 'Your changes were not saved:' : 'The stream was not saved:'),
      h('ul', {}, texts.map((text) => h('li', {}, text))));
    (first ?? this.summary).focus();
  }

  /** Sends one test event with the config as it stands, nothing saved, and shows what the destination said. */
  async check() {
    const missing = this.missing();
    this.showErrors(missing);
    if (missing.length) return;
    this.checkButton.disabled = true;
    this.checkResult.hidden = true;
    try {
      const { success, text } = testOutcome(await this.onCheck(this.body()));
      this.checkResult.className = `test-result ${success ? 'ok' : 'failed'}`;
      this.checkResult.dataset.success = String(success);
      this.checkResult.replaceChildren(h('strong', {}, success ? 'Success. ' : 'Failed. '), text);
      this.checkResult.hidden = false;
    } catch (error) {
      if (error.status === 422) {
        this.showErrors(error.fieldErrors.length ? error.fieldErrors : [{ field: '', message: error.message }]);
      } else {
        this.onFailure(error);
      }
    } finally {
      this.checkButton.disabled = false;
    }
  }

  async submit() {
    const missing = this.missing();
    this.showErrors(missing);
    if (missing.length) return;
    const label = this.saveButton.textContent;
    this.saveButton.disabled = true;
    this.saveButton.textContent = 'Saving…';
    try {
      await this.onSubmit(this.body());
    } catch (error) {
      this.saveButton.disabled = false;
      this.saveButton.textContent = label;
      if (error.status === 422) {
        this.showErrors(error.fieldErrors.length ? error.fieldErrors : [{ field: '', message: error.message }]);
      } else {
        this.saveButton.focus();
        this.onFailure(error);
      }
    }
  }
}

/** A test send's answer as words: { success, text }. */
export function testOutcome(result) {
  const status = result.http_status ? `HTTP ${result.http_status}` : '';
  const problem = result.error ?? `the destination answered ${status}`;
  const text = result.success
    ? `Test event delivered.${status && ` The destination answered ${status}.`}`
    : `Test event not delivered: ${problem}${status && !problem.includes(status) ? ` (${status})` : ''}`;
  return { success: result.success, text };
}
