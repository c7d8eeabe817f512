// The studio page: wires the grid, the filter bar, the keys, the detail view and the tab sync.
import { mark } from './api.js';
import { Grid } from './grid.js';
import * as detail from './detail.js';
import * as compare from './compare.js';
import { params, fillRuns, onChange } from './filters.js';
import { bindKeys } from './keys.js';
import { say } from './message.js';
import { follow } from './sync.js';
import * as jobs from './jobs.js';
import * as taste from './taste.js';

const count = document.getElementById('count');
const help = document.getElementById('help');
const grid = new Grid(document.getElementById('grid'), document.getElementById('more'),
  (shown, total) => { count.textContent = `${shown} of ${total}`; });

async function change(fields, optimistic) {
  const item = grid.current();
  if (!item || item.is_folder) return;
  const before = { rating: item.rating, pick: item.pick, reject: item.reject, tags: item.tags };
  grid.apply([item.id], { ...before, ...optimistic });
  detail.refreshMarks(item);
  try {
    const stored = await mark(item.id, fields);
    grid.apply(stored.ids, stored);
    if ('rating' in fields) taste.refresh();
  } catch (e) {
    grid.apply([item.id], before);
    say(`not saved: ${e.message}`, true);
  }
  detail.refreshMarks(item);
}

const actions = {
  move(dx, dy) {
    grid.move(dx, dy);
    if (detail.isOpen() && grid.current()) detail.open(grid.current());
  },
  rate(n) { change({ rating: n }, { rating: n || null }); },
  pick() {
    const on = !grid.current()?.pick;
    change({ pick: on }, on ? { pick: true, reject: false } : { pick: false });
  },
  reject() {
    const on = !grid.current()?.reject;
    change({ reject: on }, on ? { reject: true, pick: false } : { reject: false });
  },
  toggleDetail() {
    if (detail.isOpen()) detail.close();
    else if (grid.current()) detail.open(grid.current());
  },
  compare() { compare.toggle(grid.current()); },
  close() { detail.close(); compare.close(); help.hidden = true; },
  help() { help.hidden = !help.hidden; },
};

document.getElementById('grid').addEventListener('click', (event) => {
  const tile = event.target.closest('.tile');
  if (tile) grid.setFocus(Number(tile.dataset.index));
});
document.getElementById('grid').addEventListener('dblclick', () => actions.toggleDetail());
document.getElementById('detail').addEventListener('click', (event) => {
  if (event.target.id === 'detail') detail.close();
});
document.getElementById('compare').addEventListener('click', () => compare.close());
document.getElementById('help-button').addEventListener('click', () => actions.help());

bindKeys(actions);
onChange((p) => grid.reset(p).catch((e) => say(e.message, true)));
grid.reset(params()).catch((e) => say(e.message, true));
fillRuns().catch(() => {});
follow((ids, m) => grid.apply(ids, m)).catch(() => {});
detail.onTags((item, stored) => grid.apply(stored.ids, stored));
jobs.bindActions(detail.current, jobs.follow(() => grid.reset(params()).catch((e) => say(e.message, true))));
