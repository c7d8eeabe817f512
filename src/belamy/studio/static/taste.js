// The learned taste's line in the bar: how many ratings it still needs, or its cross-validated
// accuracy (rank correlation, and its error against always guessing the mean rating).
import { get } from './api.js';

const line = document.getElementById('taste');
let timer = 0;

async function update() {
  try {
    const t = await get('/api/taste');
    if (!t.ready) {
      line.textContent = `taste: rate ${Math.max(0, t.needed - t.ratings)} more to learn it`;
      line.title = `the model needs ${t.needed} ratings (it has ${t.ratings}) and some spread among them`;
    } else {
      line.textContent = `taste ρ ${t.spearman.toFixed(2)} · error ${t.mae.toFixed(2)} (mean guess ${t.baseline_mae.toFixed(2)})`;
      line.title = `cross-validated on ${t.ratings} ratings${t.uses_w ? ', with W latents' : ', image features only'}`;
    }
  } catch (e) {
    line.textContent = '';
  }
}

// Refresh the line soon (after a rating); several ratings in a row refit once.
export function refresh() {
  clearTimeout(timer);
  timer = setTimeout(update, 800);
}

update();
