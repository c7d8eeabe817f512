// Several tabs stay in step: every two seconds, ask which marks changed since the last look.
import { get } from './api.js';

export async function follow(apply) {
  let seq = (await get('/api/status')).seq;
  setInterval(async () => {
    try {
      const changes = await get('/api/changes', { since: seq });
      for (const m of changes.marks) apply(m.ids, m);
      seq = changes.seq;
    } catch (e) { /* the studio may be restarting: try again next time */ }
  }, 2000);
}
