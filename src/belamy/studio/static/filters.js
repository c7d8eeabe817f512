// The filter bar: its fields are the grid's query (sort, show, rating, seed, run, originality,
// name); any change reloads the grid from its first page.
import { get } from './api.js';

const form = document.getElementById('filters');

export function params() {
  const out = {};
  for (const [k, v] of new FormData(form)) if (String(v).trim()) out[k] = String(v).trim();
  return out;
}

export async function fillRuns() {
  const facets = await get('/api/facets');
  const select = form.elements.run;
  for (const { run, count } of facets.runs) {
    const option = document.createElement('option');
    option.value = run;
    option.textContent = `${run} (${count})`;
    select.append(option);
  }
}

export function onChange(then) {
  let timer = 0;
  form.addEventListener('submit', (e) => { e.preventDefault(); then(params()); });
  form.addEventListener('change', () => then(params()));
  form.addEventListener('input', (e) => {
    if (e.target.tagName !== 'INPUT') return;
    clearTimeout(timer);
    timer = setTimeout(() => then(params()), 350);
  });
}
