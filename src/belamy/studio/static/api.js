// Talking to the studio: GETs for data, POSTs (with the page's CSRF token) for changes.
const csrf = document.querySelector('meta[name="studio-csrf"]').content;

async function answer(response) {
  const body = await response.json().catch(() => ({ error: `${response.status} ${response.statusText}` }));
  if (!response.ok) throw new Error(body.error || `${response.status}`);
  return body;
}

export async function get(path, params) {
  const query = params ? `?${new URLSearchParams(params)}` : '';
  return answer(await fetch(path + query, { credentials: 'same-origin' }));
}

export async function post(path, body) {
  return answer(await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-Studio-CSRF': csrf },
    body: JSON.stringify(body || {}),
  }));
}

// Rate, pick, reject, note or tag one render; the answer is the mark as stored.
export const mark = (id, change) => post(`/api/mark/${id}`, change);
