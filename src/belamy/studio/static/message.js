// One line at the top of the page for what went wrong (or right), cleared after a while.
const box = document.getElementById('message');
let timer = 0;

export function say(text, isError = false) {
  box.textContent = text;
  box.classList.toggle('error', isError);
  box.hidden = false;
  clearTimeout(timer);
  timer = setTimeout(() => { box.hidden = true; }, isError ? 8000 : 3000);
}
