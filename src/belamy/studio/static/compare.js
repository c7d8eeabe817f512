// The compare view: two renders side by side at full size, with their marks, seeds and runs.
// `c` on a render chooses it; `c` on another opens the pair; Esc closes.
import { stars } from './tile.js';
import { say } from './message.js';

const panel = document.getElementById('compare');
let chosen = null;

function fill(side, item) {
  const img = panel.querySelector(`[data-side="${side}"] img`);
  const caption = panel.querySelector(`[data-side="${side}"] figcaption`);
  if (item.viewable) img.src = `/file/${item.id}`; else img.removeAttribute('src');
  const parts = [item.name, stars(item.rating) || 'unrated'];
  if (item.pick) parts.push('picked');
  if (item.reject) parts.push('rejected');
  if (item.seed != null) parts.push(`seed ${item.seed}`);
  if (item.run) parts.push(item.run);
  caption.textContent = parts.join(' · ');
}

export function isOpen() {
  return !panel.hidden;
}

// Choose `item`, or open it beside the one chosen before.
export function toggle(item) {
  if (!item || item.is_folder) return;
  if (!chosen || chosen.id === item.id) {
    chosen = item;
    say(`compare: ${item.name} chosen; move to another and press c`);
    return;
  }
  fill('a', chosen);
  fill('b', item);
  panel.hidden = false;
  chosen = null;
}

export function close() {
  panel.hidden = true;
  for (const img of panel.querySelectorAll('img')) img.removeAttribute('src');
}
