// The portal's JSON API. The session cookie (HttpOnly, set when the setup link was opened) goes along by itself;
// the X-AuditStream-Portal header is the service's guard against requests forged by other sites.

/** A call that failed: `status` is the HTTP status (0 when the service could not be reached), `body` its JSON. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body.message || `The service answered HTTP ${status}.`);
    this.status = status;
    this.body = body;
  }

  /** The field errors of a 422: [{field, code, message}]. */
  get fieldErrors() {
    return this.body.errors || [];
  }
}

export async function api(method, path, body) {
  const headers = { 'X-AuditStream-Portal': '1', Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`/portal/api${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, { message: 'The service could not be reached. Check your connection and try again.' });
  }
  if (response.status === 204) return null;
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}
