// Keyboard first: arrows move, 1-5 rate (0 clears), p picks, x rejects, space opens the detail,
// c compares two, Esc closes. Keys typed into the filter fields or the note are theirs, not the grid's.
const TYPING = new Set(['INPUT', 'SELECT', 'TEXTAREA']);

export function bindKeys(actions) {
  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (TYPING.has(event.target.tagName)) {
      if (event.key === 'Escape') event.target.blur();
      return;
    }
    const handled = handle(event.key, actions);
    if (handled) event.preventDefault();
  });
}

function handle(key, a) {
  switch (key) {
    case 'ArrowLeft': a.move(-1, 0); return true;
    case 'ArrowRight': a.move(1, 0); return true;
    case 'ArrowUp': a.move(0, -1); return true;
    case 'ArrowDown': a.move(0, 1); return true;
    case '0': case '1': case '2': case '3': case '4': case '5': a.rate(Number(key)); return true;
    case 'p': case 'P': a.pick(); return true;
    case 'x': case 'X': a.reject(); return true;
    case ' ': a.toggleDetail(); return true;
    case 'c': case 'C': a.compare(); return true;
    case 'Escape': a.close(); return true;
    case '?': a.help(); return true;
    default: return false;
  }
}
