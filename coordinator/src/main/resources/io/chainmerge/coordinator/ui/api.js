// Calls to the coordinator's API with the signed-in bearer token (docs/api.md). The token stays in this tab's
// sessionStorage; the static files need none, every data call sends it.

const KEY = 'chainmerge.token';

export class SignInNeeded extends Error {}

export const session = {
  token: () => sessionStorage.getItem(KEY),
  signIn: (token) => sessionStorage.setItem(KEY, token.trim()),
  signOut: () => sessionStorage.removeItem(KEY),
};

function headers(extra = {}) {
  const token = session.token();
  return token ? { ...extra, Authorization: 'Bearer ' + token } : extra;
}

/** A problem+json answer, as an error saying what the coordinator said. */
async function failure(response) {
  let detail = response.statusText;
  try {
    const problem = await response.json();
    detail = problem.detail || problem.title || detail;
  } catch (ignored) {
    // not JSON: the status says it
  }
  if (response.status === 401) return new SignInNeeded(detail);
  const error = new Error(response.status + ': ' + detail);
  error.status = response.status;
  return error;
}

export async function get(path) {
  const response = await fetch(path, { headers: headers({ Accept: 'application/json' }) });
  if (!response.ok) throw await failure(response);
  return response.json();
}

export async function post(path) {
  const response = await fetch(path, { method: 'POST', headers: headers({ Accept: 'application/json' }) });
  if (!response.ok) throw await failure(response);
  return response.json();
}

/**
 * Follows a campaign's Server-Sent Events with fetch, since EventSource cannot send the Authorization header.
 * Calls onEvent(type, data) for each event; resolves when the stream ends (after "end", or when the
 * connection drops), with the last event id, from which the caller may resume.
 */
export async function follow(campaignId, onEvent, signal, lastEventId) {
  const extra = { Accept: 'text/event-stream' };
  if (lastEventId) extra['Last-Event-ID'] = lastEventId;
  const response = await fetch('/v1/campaigns/' + encodeURIComponent(campaignId) + '/events', {
    headers: headers(extra),
    signal,
  });
  if (!response.ok) throw await failure(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = { type: 'message', data: [], id: null };
  let lastId = lastEventId;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return lastId;
    buffer += value;
    let newline;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (event.data.length > 0) {
          if (event.id !== null) lastId = event.id;
          onEvent(event.type, JSON.parse(event.data.join('\n')));
        }
        event = { type: 'message', data: [], id: null };
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let text = colon < 0 ? '' : line.slice(colon + 1);
        if (text.startsWith(' ')) text = text.slice(1);
        if (field === 'event') event.type = text;
        else if (field === 'data') event.data.push(text);
        else if (field === 'id') event.id = text;
      }
    }
  }
}
