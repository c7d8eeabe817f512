// The detail view: the render at full size, its marks, its lineage (run, generator, seed,
// truncation, originality, the run's collection and its credits), the nearest training image as a
// picture with its score (or why it cannot be shown), and its whole record as a table.
import { get, mark } from './api.js';
import { stars } from './tile.js';
import { say } from './message.js';

const panel = document.getElementById('detail');
const img = document.getElementById('detail-img');
const note = document.getElementById('detail-note');
const actions = document.getElementById('detail-actions');
const tags = document.getElementById('detail-tags');
const nearBox = document.getElementById('detail-nearest');
const nearImg = document.getElementById('detail-nearest-img');
const nearCaption = document.getElementById('detail-nearest-caption');
let tagsSaved = () => {};
let shown = null;

function row(table, key, value) {
  const tr = table.insertRow();
  const th = document.createElement('th');
  th.textContent = key;
  const td = tr.insertCell();
  td.textContent = value;
  tr.prepend(th);
}

function text(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(4);
  if (typeof value === 'object') {
    const json = JSON.stringify(value);
    return json.length > 160 ? `${json.slice(0, 157)}...` : json;
  }
  return String(value);
}

// A nested record as rows "originality.nearest.title  Sunflowers", arrays kept on one line.
function flatten(object, prefix = '', rows = []) {
  for (const [key, value] of Object.entries(object || {})) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === 'object' && !Array.isArray(value)) flatten(value, name, rows);
    else rows.push([name, text(value)]);
  }
  return rows;
}

function lineageRows(d) {
  const l = d.lineage || {};
  const near = l.nearest;
  return [
    ['run', l.run], ['generator sha256', l.generator_sha256], ['step', l.step], ['kind', l.kind],
    ['seed', l.seed], ['truncation', l.truncation], ['originality score', l.originality],
    ['near copy', l.near_copy],
    ['nearest training image', near ? [near.title, near.author && `by ${near.author}`, near.id != null && `#${near.id}`]
      .filter(Boolean).join(' ') + (near.score != null ? ` (score ${text(near.score)})` : '') : null],
    ...collectionRows(d.collection),
    ['file', d.path], ['sha256', d.sha256], ['record', d.record_source || 'none'],
  ].filter(([, v]) => v !== null && v !== undefined && v !== '');
}

// The run's collection and its credits: name, images, licences (most used first), authors.
function collectionRows(c) {
  if (!c) return [];
  if (!c.present) return [['collection', `${c.name ? `${c.name}: ` : ''}absent (${c.problem})`]];
  const licences = Object.entries(c.licenses || {}).map(([l, n]) => `${l} ${n}`).join(', ');
  return [['collection', `${c.name} (${c.count} images, ${c.size} px)`], ['licences', licences],
    ['authors', `${c.authors}${c.missing_credits ? ` (${c.missing_credits} images lack credits)` : ''}`]];
}

// The nearest training image beside the render: its picture (cut from the run's collection by
// the server, from the render's record alone) and its score, or why it cannot be shown.
function showNearest(item, d) {
  const near = (d.lineage || {}).nearest;
  nearImg.hidden = true;
  nearImg.removeAttribute('src');
  nearBox.hidden = !near;
  if (!near) return;
  const who = [near.title, near.author && `by ${near.author}`].filter(Boolean).join(' ');
  const score = near.score != null ? `score ${text(near.score)}` : '';
  const c = d.collection;
  if (c && c.present && near.index != null) {
    nearCaption.textContent = [who, score].filter(Boolean).join(' · ');
    nearImg.onerror = () => {
      nearImg.hidden = true;
      nearCaption.textContent = [who, score, 'picture not available'].filter(Boolean).join(' · ');
    };
    nearImg.onload = () => { nearImg.hidden = false; };
    nearImg.src = `/nearest/${item.id}`;
  } else {
    const why = c && c.problem ? c.problem : 'the collection is absent';
    nearCaption.textContent = [who, score, `no picture: ${why}`].filter(Boolean).join(' · ');
  }
}

// The render shown (the actions start from it), or null.
export function current() {
  return shown;
}

export function isOpen() {
  return !panel.hidden;
}

export function refreshMarks(item) {
  if (!shown || shown.id !== item.id) return;
  const parts = [stars(item.rating) || 'unrated'];
  if (item.pick) parts.push('picked');
  if (item.reject) parts.push('rejected');
  document.getElementById('detail-marks').textContent = parts.join(' · ');
}

export async function open(item) {
  shown = item;
  panel.hidden = false;
  document.getElementById('detail-name').textContent = item.name;
  if (item.viewable) img.src = `/file/${item.id}`; else img.removeAttribute('src');
  refreshMarks(item);
  const lineage = document.getElementById('detail-lineage');
  const record = document.getElementById('detail-record');
  lineage.textContent = '';
  record.textContent = '';
  note.value = '';
  tags.value = (item.tags || []).join(', ');
  actions.hidden = true;
  nearBox.hidden = true;
  nearImg.removeAttribute('src');
  try {
    const d = await get(`/api/render/${item.id}`);
    if (shown !== item) return;
    for (const [k, v] of lineageRows(d)) row(lineage, k, text(v));
    if (d.problem) row(lineage, 'problem', d.problem);
    for (const [k, v] of flatten(d.record)) row(record, k, v);
    showNearest(item, d);
    note.value = d.note || '';
    tags.value = (d.tags || []).join(', ');
    actions.hidden = !d.run_present;
    if (d.truncation != null) document.getElementById('job-truncation').value = d.truncation;
  } catch (e) {
    say(`cannot show ${item.name}: ${e.message}`, true);
  }
}

export function close() {
  panel.hidden = true;
  img.removeAttribute('src');
  nearImg.removeAttribute('src');
  shown = null;
}

note.addEventListener('change', async () => {
  if (!shown) return;
  try {
    await mark(shown.id, { note: note.value });
    say('note saved');
  } catch (e) {
    say(`note not saved: ${e.message}`, true);
  }
});

// `then(item, stored)` runs after the tags are saved (the grid updates its tiles).
export function onTags(then) {
  tagsSaved = then;
}

async function saveTags() {
  if (!shown) return;
  const list = tags.value.split(',').map((t) => t.trim()).filter(Boolean);
  try {
    const stored = await mark(shown.id, { tags: list });
    tags.value = stored.tags.join(', ');
    tagsSaved(shown, stored);
    say('tags saved');
  } catch (e) {
    say(`tags not saved: ${e.message}`, true);
  }
}

tags.addEventListener('change', saveTags);
