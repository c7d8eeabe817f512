// One tile of the grid: thumbnail, name, seed, and the marks (stars, pick, reject) as badges.
// A tile whose render has a problem (broken record, image that will not decode, vanished folder)
// is drawn marked, with the problem written on it.

const STARS = ['', '★', '★★', '★★★', '★★★★', '★★★★★'];

export function stars(rating) {
  return rating ? STARS[rating] : '';
}

export function makeTile(item) {
  const el = document.createElement('figure');
  el.className = 'tile';
  el.dataset.id = item.id;
  el.setAttribute('role', 'gridcell');
  el.tabIndex = -1;
  const frame = document.createElement('div');
  frame.className = 'frame';
  if (item.viewable) {
    const img = document.createElement('img');
    img.alt = item.name;
    img.decoding = 'async';
    img.dataset.src = `/thumb/${item.id}`;
    img.addEventListener('error', () => thumbFailed(el, img));
    frame.append(img);
  }
  const caption = document.createElement('figcaption');
  const badges = document.createElement('span');
  badges.className = 'badges';
  const problem = document.createElement('span');
  problem.className = 'problem';
  el.append(frame, caption, badges, problem);
  if (!item.viewable) el.classList.add('broken');
  paint(el, item);
  return el;
}

// Redraw what a mark changes (and the problem line) without touching the image.
export function paint(el, item) {
  const caption = el.querySelector('figcaption');
  caption.textContent = item.seed != null ? `${item.name} · seed ${item.seed}` : item.name;
  const badges = el.querySelector('.badges');
  badges.textContent = '';
  if (item.rating) badges.append(badge('stars', stars(item.rating)));
  if (item.pick) badges.append(badge('pick', 'pick'));
  if (item.reject) badges.append(badge('reject', 'reject'));
  el.classList.toggle('picked', !!item.pick);
  el.classList.toggle('rejected', !!item.reject);
  el.dataset.rating = item.rating || 0;
  setProblem(el, item.problem);
}

function badge(kind, text) {
  const span = document.createElement('span');
  span.className = `badge ${kind}`;
  span.textContent = text;
  return span;
}

export function setProblem(el, text) {
  el.classList.toggle('marked', !!text);
  el.querySelector('.problem').textContent = text || '';
  if (text) el.title = text;
}

async function thumbFailed(el, img) {
  el.classList.add('broken');
  img.remove();
  let why = 'no thumbnail';
  try {
    const response = await fetch(img.src, { credentials: 'same-origin' });
    const body = await response.json();
    why = body.error || why;
  } catch (e) { /* keep the plain reason */ }
  setProblem(el, why);
}
