// Background jobs: start one from the open render (more like this, a family, an interpolation to
// the pinned render), show the jobs' progress in the bar, and reload the grid when one finishes.
import { get, post } from './api.js';
import { say } from './message.js';

const list = document.getElementById('jobs');
let timer = null;
let known = new Map();   // job id -> status last seen
let pinned = null;       // the render an interpolation starts from

function show(jobs) {
  list.textContent = '';
  for (const job of jobs.slice(0, 4)) {
    const item = document.createElement('span');
    item.className = `job ${job.status}`;
    item.dataset.status = job.status;
    const pct = Math.round(job.progress * 100);
    item.textContent = `${job.kind} ${job.status === 'running' ? `${pct}%` : job.status}`;
    if (job.message) item.title = job.message;
    list.append(item);
  }
}

async function poll(onDone) {
  try {
    const { jobs } = await get('/api/jobs');
    show(jobs);
    let finished = false;
    for (const job of jobs) {
      const before = known.get(job.id);
      if (before && before !== job.status && (job.status === 'done' || job.status === 'failed')) {
        finished = true;
        if (job.status === 'failed') say(`${job.kind} failed: ${job.message}`, true);
        else say(`${job.kind}: ${job.outputs.length} new file(s)`);
      }
      known.set(job.id, job.status);
    }
    if (finished) onDone();
    const active = jobs.some((j) => j.status === 'queued' || j.status === 'running');
    timer = setTimeout(() => poll(onDone), active ? 700 : 5000);
  } catch (e) {
    timer = setTimeout(() => poll(onDone), 5000);
  }
}

// Begin following the jobs; `onDone` runs when one of them ends (the grid reloads).
export function follow(onDone) {
  if (timer === null) poll(onDone);
  return { restart() { clearTimeout(timer); poll(onDone); } };
}

// Wire the detail's action buttons; `current()` is the open render (or null).
export function bindActions(current, follower) {
  const n = document.getElementById('job-n');
  const truncation = document.getElementById('job-truncation');
  const pinLabel = document.getElementById('job-pinned');
  async function start(kind, ids, extra = {}) {
    try {
      const job = await post('/api/job', { kind, ids, truncation: Number(truncation.value), ...extra });
      known.set(job.id, job.status);
      say(`${kind} queued`);
      follower.restart();
    } catch (e) {
      say(`${kind} not started: ${e.message}`, true);
    }
  }
  document.getElementById('job-more').addEventListener('click', () => {
    const item = current();
    if (item) start('more', [item.id], { n: Number(n.value) });
  });
  document.getElementById('job-family').addEventListener('click', () => {
    const item = current();
    if (item) start('family', [item.id], { n: Number(n.value) });
  });
  document.getElementById('dscore-button').addEventListener('click', async () => {
    try {
      const job = await post('/api/job', { kind: 'dscore' });
      known.set(job.id, job.status);
      say('scoring with the discriminator (then sort by it)');
      follower.restart();
    } catch (e) {
      say(`not started: ${e.message}`, true);
    }
  });
  document.getElementById('job-pin').addEventListener('click', () => {
    pinned = current();
    pinLabel.textContent = pinned ? `pinned: ${pinned.name}` : '';
  });
  document.getElementById('job-interpolate').addEventListener('click', () => {
    const item = current();
    if (!pinned || !item || pinned.id === item.id) {
      say('pin one render, open another, then interpolate', true);
      return;
    }
    start('interpolate', [pinned.id, item.id], { seconds: 2 });
  });
}
