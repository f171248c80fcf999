// The log stream setup page: one organization's streams, reached through a setup link. Views by address:
// #/ the streams, #/new add one, #/streams/<id> one stream, #/streams/<id>/edit change it.

import { alertContactsPanel, loadAlertContacts } from './alert-contacts.js';
import { api } from './api.js';
import { DESTINATIONS, destination, valueAt } from './destinations.js';
import { copyText, duration, formatDate, h, timeAgo } from './dom.js';
import { StreamForm, testOutcome } from './stream-form.js';

const view = document.getElementById('view');
const notice = document.getElementById('notice');
const announcer = document.getElementById('announcer');
const confirmDialog = document.getElementById('confirm-delete');

let session = null;
let egressAddresses = []; // where our traffic comes from, for the destination's allow-list (GET /egress)
let justCreated = null; // the answer to the last create: its generated secrets are shown on the next view of it, once
let flash = null; // a message for the next view, e.g. after a delete
let renders = 0;

start();

async function start() {
  // The link's token has done its work (the session cookie is set): keep it out of the address bar and history.
  if (location.search) history.replaceState(null, '', location.pathname + location.hash);
  try {
    session = await api('GET', '/session');
  } catch (error) {
    failed(error, start);
    return;
  }
  try {
    ({ addresses: egressAddresses } = await api('GET', '/egress'));
  } catch {
    // the setup steps show no allow-list then; everything else works
  }
  showHeader(session);
  window.addEventListener('hashchange', () => route(true));
  route(false);
}

function showHeader({ organization, return_url: returnUrl, success_url: successUrl, expires_at: expiresAt }) {
  const name = document.getElementById('org-name');
  name.textContent = organization.name;
  name.hidden = false;
  for (const [id, url] of [['back', returnUrl], ['done', successUrl]]) {
    const link = document.getElementById(id);
    const href = webUrl(url);
    link.hidden = !href;
    if (href) link.href = href;
  }
  document.getElementById('session-ends').textContent = `This setup session ends ${formatDate(expiresAt)}.`;
}

/** The URL when it is an http(s) one, never a javascript: or data: one. */
function webUrl(url) {
  try {
    const parsed = new URL(url);
    return ['https:', 'http:'].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

function route(moveFocus) {
  const path = location.hash.slice(1) || '/';
  const [, id, edit] = path.match(/^\/streams\/([^/]+)(\/edit)?$/) ?? [];
  if (path === '/new') render(addView, moveFocus);
  else if (id && edit) render(() => editView(decodeURIComponent(id)), moveFocus);
  else if (id) render(() => detailView(decodeURIComponent(id)), moveFocus);
  else render(listView, moveFocus);
}

function navigate(hash) {
  if (location.hash === hash) route(true);
  else location.hash = hash;
}

/** Shows what `build` resolves to, unless another view was asked for meanwhile; focuses its heading. */
async function render(build, moveFocus) {
  const ticket = ++renders;
  notify('');
  view.setAttribute('aria-busy', 'true');
  try {
    const content = await build();
    if (ticket !== renders) return;
    view.replaceChildren(content);
    if (flash) notify(flash, 'success');
    flash = null;
    if (moveFocus) (view.querySelector('[data-focus]') ?? view.querySelector('h2')).focus();
  } catch (error) {
    if (ticket === renders) failed(error, () => route(true));
  } finally {
    if (ticket === renders) view.removeAttribute('aria-busy');
  }
}

/** A message at the top of the view: the outcome of what led here, or a failure. */
function notify(message, kind) {
  notice.className = kind ? `notice notice-${kind}` : 'notice';
  notice.textContent = message;
}

/** Tells screen readers what the page shows by itself (a result in a card, a new state, a copy). */
function announce(message) {
  announcer.textContent = message;
}

function heading(text) {
  return h('h2', { tabindex: '-1' }, text);
}

/** A view that could not be shown: the session is over, the stream is not this organization's, or the service failed. */
function failed(error, retry) {
  if (error.status === 401) {
    sessionExpired();
    return;
  }
  const panel = error.status === 404
    ? h('section', { class: 'panel', testid: 'not-found' },
      heading('Stream not found'),
      h('p', {}, 'This log stream does not exist. It may have been deleted, or it belongs to another organization.'),
      h('p', {}, h('a', { href: '#/' }, 'See your log streams')))
    : h('section', { class: 'panel panel-error' },
      heading('Something went wrong'),
      h('p', {}, error.message),
      h('button', { type: 'button', class: 'button', onclick: retry }, 'Try again'));
  view.replaceChildren(panel);
  panel.querySelector('h2').focus();
}

function sessionExpired() {
  renders++; // views still loading are not shown
  notify('');
  document.getElementById('done').hidden = true;
  document.getElementById('session-ends').textContent = '';
  const panel = h('section', { class: 'panel panel-error', testid: 'session-error' },
    heading('Your session has expired'),
    h('p', {}, 'Ask for a new setup link to continue: for your security, a setup session lasts a limited time.'),
    h('p', {}, 'Streams you already saved go on delivering events.'));
  view.replaceChildren(panel);
  panel.querySelector('h2').focus();
}

/** An action on a stream failed: the page stays as it is, except when the session or the stream is gone. */
function actionFailed(error) {
  if (error.status === 401) {
    sessionExpired();
  } else if (error.status === 404) {
    flash = 'That stream no longer exists.';
    navigate('#/');
  } else {
    notify(error.message, 'error');
    notice.scrollIntoView({ block: 'nearest' });
  }
}

function streamPath(stream) {
  return `#/streams/${encodeURIComponent(stream.id)}`;
}

/** The stream's name; the service names an unnamed stream after its type, which reads better as the label. */
function titleOf(stream) {
  return stream.name && stream.name !== stream.type ? stream.name : destination(stream.type).label;
}

// ---- the list

async function listView() {
  const [{ data }, contacts] = await Promise.all([api('GET', '/streams?limit=100'), loadAlertContacts()]);
  document.title = `Log streams · ${session.organization.name}`;
  return h('div', {},
    h('div', { class: 'view-head' },
      heading('Log streams'),
      h('a', { class: 'button primary', href: '#/new', testid: 'add-stream' }, 'Add a stream')),
    h('p', { class: 'lead' }, `Stream ${session.organization.name}’s audit log events to your own SIEM or storage, `
      + 'within seconds of each event.'),
    data.length
      ? h('ul', { class: 'streams', 'aria-label': 'Your log streams' },
        data.map((stream) => h('li', {}, streamCard(stream, false))))
      : h('div', { class: 'panel empty' },
        h('p', {}, h('strong', {}, 'No log streams yet.')),
        h('p', {}, 'Add one to send audit events to Datadog, Splunk, Amazon S3, Google Cloud Storage, or any '
          + 'HTTPS endpoint.')),
    alertContactsPanel(contacts, actionFailed));
}

const STATE_LABELS = { active: 'Active', error: 'Retrying', invalid: 'Invalid' };

function stateBadge(stream) {
  const label = stream.state === 'inactive'
    ? (stream.state_reason === 'Paused.' ? 'Paused' : 'Inactive')
    : STATE_LABELS[stream.state] ?? stream.state;
  return h('span', { class: `badge badge-${stream.state}`, testid: 'stream-state', 'data-state': stream.state },
    h('span', { class: 'visually-hidden' }, 'State: '), label);
}

/** A stream's state, delivery facts and actions; in the list with its title, on its own page under "Status". */
function streamCard(stream, detail) {
  const dest = destination(stream.type);
  const titleId = `title-${stream.id}`;
  const facts = [['Last delivery', stream.last_synced_at ? timeAgo(stream.last_synced_at) : 'None yet']];
  if (stream.lag > 0) facts.push(['Oldest waiting event', `${duration(stream.lag)} old`]);
  if (stream.state_reason && stream.state_reason !== 'Paused.') facts.push(['Reason', stream.state_reason]);
  (stream.warnings || []).forEach((warning) => facts.push(['Warning', warning]));
  if (stream.last_error && stream.last_error !== stream.state_reason) facts.push(['Last error', stream.last_error]);
  if (stream.dead_letters > 0) {
    facts.push(['Refused events', `${stream.dead_letters} ${stream.dead_letters === 1 ? 'event was' : 'events were'} refused by the destination and set aside`]);
  }

  const card = h('article', { class: 'stream', testid: 'stream-row', 'data-stream-id': stream.id, 'aria-labelledby': titleId },
    h('div', { class: 'stream-head' },
      h('h3', { id: titleId }, detail ? 'Status' : h('a', { href: streamPath(stream) }, titleOf(stream))),
      stateBadge(stream)),
    detail ? null : h('p', { class: 'target' }, `${dest.label} · ${dest.target(stream.config)}`),
    h('dl', { class: 'facts' }, facts.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'button', testid: 'send-test', onclick: () => sendTest(card, stream, detail) },
        'Send test event'),
      stream.dead_letters > 0
        ? h('button', { type: 'button', class: 'button', testid: 'redrive', onclick: () => redrive(card, stream, detail) },
          `Send ${stream.dead_letters === 1 ? 'refused event' : 'refused events'} again`)
        : null,
      h('a', { class: 'button', href: `${streamPath(stream)}/edit`, testid: 'edit-stream' }, 'Edit'),
      h('button', { type: 'button', class: 'button', testid: 'toggle-state', onclick: () => toggleState(card, stream, detail) },
        stream.state === 'inactive' ? 'Resume' : 'Pause'),
      h('button', { type: 'button', class: 'button danger', testid: 'delete-stream', onclick: () => remove(stream) },
        'Delete')),
    h('div', { class: 'test-result', testid: 'test-result', hidden: true }));
  return card;
}

/** Shows the stream afresh in place of its card, and focuses the same action in the new card. */
function replaceCard(card, stream, detail, focusTestid) {
  const next = streamCard(stream, detail);
  card.replaceWith(next);
  next.querySelector(`[data-testid="${focusTestid}"]`).focus();
  return next;
}

/** Disables the button while `work` runs; on failure enables it again and keeps focus on it. */
async function busy(button, label, work) {
  const idle = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    await work();
  } catch (error) {
    button.disabled = false;
    button.textContent = idle;
    button.focus();
    actionFailed(error);
  }
}

function sendTest(card, stream, detail) {
  const path = `/streams/${encodeURIComponent(stream.id)}`;
  return busy(card.querySelector('[data-testid="send-test"]'), 'Sending…', async () => {
    announce('Sending a test event…');
    const result = await api('POST', `${path}/test`);
    const next = replaceCard(card, await api('GET', path), detail, 'send-test');
    const { text } = testOutcome(result);
    const box = next.querySelector('[data-testid="test-result"]');
    box.hidden = false;
    box.dataset.success = String(result.success);
    box.classList.add(result.success ? 'ok' : 'failed');
    box.append(h('strong', {}, result.success ? 'Success. ' : 'Failed. '), text,
      h('span', { class: 'when' }, `Sent ${new Date().toLocaleTimeString()}.`));
    announce(`${titleOf(stream)}: ${text}`);
  });
}

/** Sends the stream's dead letters again, in order; they leave the count once the destination takes them. */
function redrive(card, stream, detail) {
  const path = `/streams/${encodeURIComponent(stream.id)}`;
  return busy(card.querySelector('[data-testid="redrive"]'), 'Sending…', async () => {
    const result = await api('POST', `${path}/dead_letters/redrive`, {});
    const fresh = await api('GET', path);
    // the button is gone once every refused event was taken
    replaceCard(card, fresh, detail, fresh.dead_letters > 0 ? 'redrive' : 'send-test');
    announce(`${titleOf(stream)}: sending ${result.redriving} refused ${result.redriving === 1 ? 'event' : 'events'} again.`);
  });
}

function toggleState(card, stream, detail) {
  const pausing = stream.state !== 'inactive';
  return busy(card.querySelector('[data-testid="toggle-state"]'), pausing ? 'Pausing…' : 'Resuming…', async () => {
    const changed = await api('PATCH', `/streams/${encodeURIComponent(stream.id)}`,
      { state: pausing ? 'inactive' : 'active' });
    replaceCard(card, changed, detail, 'toggle-state');
    const title = titleOf(stream);
    if (pausing) announce(`Paused ${title}. Events that arrive meanwhile are delivered when you resume it.`);
    else if (changed.state === 'inactive') announce(`${title} could not be resumed: ${changed.state_reason}`);
    else announce(`Resumed ${title}. Waiting events are being delivered.`);
  });
}

function confirmDelete(stream) {
  document.getElementById('confirm-title').textContent = `Delete ${titleOf(stream)}?`;
  document.getElementById('confirm-text').textContent = `Events will no longer be sent to `
    + `${destination(stream.type).target(stream.config)}. What was delivered already stays there. This cannot be undone.`;
  confirmDialog.returnValue = '';
  confirmDialog.showModal();
  return new Promise((resolve) => {
    confirmDialog.addEventListener('close', () => resolve(confirmDialog.returnValue === 'delete'), { once: true });
  });
}

async function remove(stream) {
  if (!(await confirmDelete(stream))) return;
  try {
    await api('DELETE', `/streams/${encodeURIComponent(stream.id)}`);
    flash = `Deleted ${titleOf(stream)}.`;
    navigate('#/');
  } catch (error) {
    actionFailed(error);
  }
}

// ---- adding a stream

function instructions(type) {
  const template = document.getElementById(`instructions-${type}`);
  const steps = template ? template.content.cloneNode(true) : document.createDocumentFragment();
  if (egressAddresses.length > 0) {
    steps.append(h('p', { class: 'egress' },
      'If your side only accepts connections from known addresses, allow these: our traffic comes from ',
      ...egressAddresses.flatMap((address, i) => [i > 0 ? ', ' : '', h('code', {}, address)]), '.'));
  }
  return steps;
}

async function addView() {
  document.title = `Add a log stream · ${session.organization.name}`;
  const steps = h('div', { class: 'add-steps' });
  const choose = (dest) => {
    const form = new StreamForm(dest, null, {
      cancelHref: '#/',
      onFailure: actionFailed,
      onCheck: (body) => api('POST', '/streams/test', body),
      onSubmit: async (body) => {
        justCreated = await api('POST', '/streams', body);
        navigate(streamPath(justCreated));
      },
    });
    steps.replaceChildren(
      h('section', { class: 'step' }, h('h3', {}, `2. Prepare ${dest.label}`), instructions(dest.type)),
      h('section', { class: 'step' }, h('h3', {}, '3. Connect'), form.element));
  };
  return h('div', {},
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← Log streams')),
    heading('Add a log stream'),
    h('fieldset', { class: 'step destinations' },
      h('legend', {}, h('h3', {}, '1. Choose a destination')),
      DESTINATIONS.map((dest) => h('div', { class: 'destination' },
        h('input', { type: 'radio', name: 'destination', id: `destination-${dest.type}`, value: dest.type,
          testid: `destination-${dest.type}`, onchange: () => choose(dest) }),
        h('label', { for: `destination-${dest.type}` },
          h('span', { class: 'destination-name' }, dest.label),
          h('span', { class: 'destination-blurb' }, dest.blurb))))),
    steps);
}

// ---- one stream

async function detailView(id) {
  const created = justCreated?.id === id ? justCreated : null;
  justCreated = null;
  const stream = created ?? await api('GET', `/streams/${encodeURIComponent(id)}`);
  const dest = destination(stream.type);
  const setup = stream.type === 'S3' ? await s3Setup(stream)
    : stream.type === 'MicrosoftSentinel' ? await sentinelSetup(stream) : null;
  document.title = `${titleOf(stream)} · ${session.organization.name}`;
  const card = streamCard(stream, true);
  return h('div', {},
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← Log streams')),
    heading(titleOf(stream)),
    h('p', { class: 'lead' }, `${dest.label} · ${dest.target(stream.config)}`),
    created ? [createdCallout(created), setup, card] : [card, setup],
    settings(stream),
    stream.type === 'GenericHttps' ? rotation(stream) : null);
}

/** Right after saving: the secret shown this once, and what to do next. */
function createdCallout(stream) {
  const secret = stream.config.signingSecret;
  return h('section', { class: 'callout' },
    h('h3', { tabindex: '-1', 'data-focus': true }, 'Stream created'),
    secret ? [
      h('p', {}, 'Your endpoint verifies each request’s ', h('code', {}, 'webhook-signature'), ' with this signing secret. ',
        h('strong', {}, 'Copy it now: it will not be shown again.')),
      h('div', { class: 'secret' }, h('code', { testid: 'signing-secret' }, secret), copyButton(secret, 'signing secret')),
    ] : null,
    h('p', {}, stream.type === 'S3'
      ? 'Next, give the stream access to your bucket with the steps below, then send a test event.'
      : 'Next, send a test event to check that it arrives.'));
}

/** A Copy button that says "Copied" for a moment. */
function copyButton(text, what) {
  const label = document.createTextNode('Copy');
  return h('button', {
    type: 'button',
    class: 'button small',
    onclick: async () => {
      const copied = await copyText(text).then(() => true, () => false);
      label.textContent = copied ? 'Copied' : 'Copy failed';
      announce(copied ? `Copied the ${what}.` : `Could not copy the ${what}: select it and copy it yourself.`);
      setTimeout(() => { label.textContent = 'Copy'; }, 2000);
    },
  }, label, h('span', { class: 'visually-hidden' }, ` ${what}`));
}

function codeBlock(text, what) {
  return h('div', { class: 'code' },
    h('pre', { tabindex: '0', 'aria-label': what }, h('code', {}, text)),
    copyButton(text, what));
}

async function s3Setup(stream) {
  let setup;
  try {
    setup = await api('GET', `/streams/${encodeURIComponent(stream.id)}/setup`);
  } catch (error) {
    if (error.status === 401) throw error;
    return h('section', { class: 'panel panel-error' }, h('h3', {}, 'Set up access in AWS'),
      h('p', {}, `The policies to paste into AWS could not be loaded: ${error.message}`));
  }
  const { accountId, roleName, externalId, trustPrincipal } = stream.config;
  const json = (value) => JSON.stringify(value, null, 2);
  return h('section', { class: 'panel', testid: 's3-setup' },
    h('h3', {}, 'Set up access in AWS'),
    h('ol', { class: 'steps' },
      h('li', {},
        h('p', {}, `Sign in to AWS account ${accountId}, open `, h('strong', {}, 'IAM → Roles → Create role'),
          ' and choose ', h('strong', {}, 'Custom trust policy'), '. Paste this policy: it lets only our service assume '
          + 'the role, and only with this stream’s external ID.'),
        codeBlock(json(setup.trust_policy), 'trust policy'),
        h('dl', { class: 'facts' },
          h('dt', {}, 'External ID'), h('dd', {}, h('code', {}, externalId), ' ', copyButton(externalId, 'external ID')),
          h('dt', {}, 'Trusted principal'), h('dd', {}, trustPrincipal
            ? [h('code', {}, trustPrincipal), ' ', copyButton(trustPrincipal, 'trusted principal')]
            : 'Not configured on this service yet: ask the people who sent you the link.'))),
      h('li', {}, h('p', {}, 'Skip the permissions step, name the role ', h('code', {}, roleName),
        ' and create it. Its ARN must be ', h('code', {}, setup.role_arn ?? `arn:aws:iam::${accountId}:role/${roleName}`),
        '.')),
      h('li', {},
        h('p', {}, 'Open the new role and choose ', h('strong', {}, 'Add permissions → Create inline policy → JSON'),
          '. Paste this policy: it allows writing objects to your bucket path and nothing else.'),
        codeBlock(json(setup.permissions_policy), 'permissions policy')),
      h('li', {}, h('p', {}, 'Send a test event: it writes one object to the bucket.'))));
}

async function sentinelSetup(stream) {
  let setup;
  try {
    setup = await api('GET', `/streams/${encodeURIComponent(stream.id)}/setup`);
  } catch (error) {
    if (error.status === 401) throw error;
    return h('section', { class: 'panel panel-error' }, h('h3', {}, 'Set up the table in Azure'),
      h('p', {}, `The table schema and rule to paste into Azure could not be loaded: ${error.message}`));
  }
  const json = (value) => JSON.stringify(value, null, 2);
  return h('section', { class: 'panel', testid: 'sentinel-setup' },
    h('h3', {}, 'Set up the table in Azure'),
    h('ol', { class: 'steps' },
      h('li', {},
        h('p', {}, 'Create the custom table ', h('code', {}, setup.table_name), ' in your Sentinel workspace with these '
          + 'columns (the body of the Log Analytics tables API, or the schema in the portal’s wizard).'),
        codeBlock(json(setup.table), 'table schema')),
      h('li', {},
        h('p', {}, 'Create the data collection rule from this JSON (fill in the three values in angle brackets), then '
          + 'copy its immutable ID into this stream’s settings if it differs.'),
        codeBlock(json(setup.data_collection_rule), 'data collection rule')),
      h('li', {}, h('p', {}, 'Give the app registration the ', h('strong', {}, setup.role),
        ' role on the rule, then send a test event.'))));
}

/** A new signing secret, shown once; the old one keeps signing alongside it for the overlap. */
function rotation(stream) {
  const result = h('div', { 'aria-live': 'polite' });
  const button = h('button', {
    type: 'button',
    class: 'button',
    testid: 'rotate-secret',
    onclick: () => busy(button, 'Rotating…', async () => {
      const { signingSecret } = await api('POST', `/streams/${encodeURIComponent(stream.id)}/signing_secret/rotate`);
      button.disabled = false;
      button.textContent = 'Rotate signing secret';
      result.replaceChildren(
        h('p', {}, 'Your new signing secret. ', h('strong', {}, 'Copy it now: it will not be shown again.'),
          ' For the next 24 hours every request carries a signature by the old secret and one by the new, so '
          + 'your endpoint can switch over at any time in between.'),
        h('div', { class: 'secret' }, h('code', { testid: 'new-signing-secret' }, signingSecret),
          copyButton(signingSecret, 'signing secret')));
      announce('A new signing secret was made. Copy it now.');
    }),
  }, 'Rotate signing secret');
  return h('section', { class: 'panel' },
    h('h3', {}, 'Signing secret'),
    h('p', {}, 'Rotate the secret your endpoint verifies ', h('code', {}, 'webhook-signature'), ' with, without '
      + 'downtime.'),
    button, result);
}

/** The stream's settings as saved; secrets only masked. */
function settings(stream) {
  const dest = destination(stream.type);
  const rows = [];
  for (const field of dest.fields) {
    const value = valueAt(stream.config, field.name);
    if (field.local || value == null || value === '') continue;
    rows.push([field.label, field.options?.find(([option]) => option === value)?.[1] ?? value]);
  }
  rows.push(['Actions', stream.filters?.actions?.join(', ') || 'All']);
  rows.push(['Created', formatDate(stream.created_at)]);
  return h('section', { class: 'panel' },
    h('h3', {}, 'Settings'),
    h('dl', { class: 'facts' }, rows.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])));
}

// ---- changing a stream

async function editView(id) {
  const stream = await api('GET', `/streams/${encodeURIComponent(id)}`);
  const dest = destination(stream.type);
  const title = titleOf(stream);
  document.title = `Edit ${title} · ${session.organization.name}`;
  const form = new StreamForm(dest, stream, {
    cancelHref: streamPath(stream),
    onFailure: actionFailed,
    onSubmit: async (body) => {
      const saved = await api('PATCH', `/streams/${encodeURIComponent(id)}`, body);
      flash = saved.state === 'inactive' && saved.state_reason !== 'Paused.'
        ? `Saved. The stream is inactive: ${saved.state_reason}`
        : `Saved your changes to ${titleOf(saved)}.`;
      navigate(streamPath(saved));
    },
  });
  return h('div', {},
    h('p', { class: 'crumbs' }, h('a', { href: streamPath(stream) }, `← ${title}`)),
    heading(`Edit ${title}`),
    h('details', { class: 'instructions' }, h('summary', {}, `How to set up ${dest.label}`), instructions(dest.type)),
    h('section', { class: 'panel' }, form.element));
}
