// Small DOM helpers. Text always goes in as text nodes, never as HTML: names, URLs and errors come from users and
// from destinations.

/**
 * An element: h('button', {class: 'button', testid: 'send-test', onclick: send}, 'Send test event').
 * Props starting with "on" are listeners, `testid` is data-testid, true is an empty attribute, false/null are skipped.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'class') element.className = value;
    else if (key === 'testid') element.dataset.testid = value;
    else element.setAttribute(key, value === true ? '' : value);
  }
  element.append(...children.flat(Infinity).filter((child) => child !== null && child !== undefined && child !== false));
  return element;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** "3 minutes ago" in a <time>, with the full date as its tooltip. */
export function timeAgo(iso) {
  const date = new Date(iso);
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const [amount, unit] = Math.abs(seconds) < 60 ? [seconds, 'second']
    : Math.abs(seconds) < 3600 ? [Math.round(seconds / 60), 'minute']
      : Math.abs(seconds) < 86400 ? [Math.round(seconds / 3600), 'hour']
        : [Math.round(seconds / 86400), 'day'];
  return h('time', { datetime: iso, title: dateTime.format(date) }, relative.format(amount, unit));
}

export function formatDate(iso) {
  return dateTime.format(new Date(iso));
}

/** "45 seconds", "12 minutes", "3 hours". */
export function duration(seconds) {
  if (seconds < 120) return `${seconds} seconds`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} minutes`;
  return `${Math.round(seconds / 3600)} hours`;
}

/** Copies text; without the Clipboard API (plain http other than localhost) or its permission, through a selection. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const focused = document.activeElement;
    const area = h('textarea', { readonly: true, class: 'offscreen' });
    area.value = text;
    document.body.append(area);
    area.select();
    const copied = document.execCommand('copy');
    area.remove();
    focused.focus(); // selecting took focus away from the Copy button
    if (!copied) throw new Error('The browser refused to copy.');
  }
}
