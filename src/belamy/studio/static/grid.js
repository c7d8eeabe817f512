// The grid: pages of tiles loaded as the artist scrolls (an IntersectionObserver on a sentinel
// below the last tile), thumbnails fetched only for tiles near the screen, and the focus that
// the keys move.
import { get } from './api.js';
import { makeTile, paint } from './tile.js';

const PAGE = 150;

export class Grid {
  constructor(el, sentinel, onCount) {
    this.el = el;
    this.sentinel = sentinel;
    this.onCount = onCount;
    this.items = [];
    this.tiles = new Map(); // id -> element
    this.total = 0;
    this.focus = -1;
    this.params = {};
    this.generation = 0;
    this.loading = null;
    this.loaded = false;
    this.thumbs = new IntersectionObserver((entries) => this.showThumbs(entries), { rootMargin: '600px 0px' });
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.loadMore();
    }, { rootMargin: '800px 0px' }).observe(sentinel);
  }

  async reset(params) {
    this.generation += 1;
    this.params = params;
    this.items = [];
    this.tiles.clear();
    this.thumbs.disconnect();
    this.el.textContent = '';
    this.total = 0;
    this.focus = -1;
    this.loading = null;
    this.loaded = false;
    await this.loadMore();
    if (this.items.length) this.setFocus(0);
  }

  loadMore() {
    if (this.loading) return this.loading;
    if (this.loaded && this.items.length >= this.total) return Promise.resolve();
    const generation = this.generation;
    this.loading = get('/api/renders', { ...this.params, offset: this.items.length, limit: PAGE })
      .then((page) => {
        if (generation !== this.generation) return;
        this.loaded = true;
        this.total = page.total;
        const fragment = document.createDocumentFragment();
        for (const item of page.items) {
          const tile = makeTile(item);
          tile.dataset.index = this.items.length;
          this.items.push(item);
          this.tiles.set(item.id, tile);
          fragment.append(tile);
          this.thumbs.observe(tile);
        }
        this.el.append(fragment);
        this.onCount(this.items.length, this.total);
      })
      .finally(() => {
        if (generation !== this.generation) return;
        this.loading = null;
        const rect = this.sentinel.getBoundingClientRect();
        if (rect.top < window.innerHeight + 800 && this.items.length < this.total) this.loadMore();
      });
    return this.loading;
  }

  showThumbs(entries) {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const img = entry.target.querySelector('img[data-src]');
      if (img) {
        img.src = img.dataset.src;
        img.removeAttribute('data-src');
      }
      this.thumbs.unobserve(entry.target);
    }
  }

  columns() {
    return Math.max(1, getComputedStyle(this.el).gridTemplateColumns.split(' ').length);
  }

  current() {
    return this.items[this.focus];
  }

  setFocus(index) {
    if (!this.items.length) return;
    const i = Math.max(0, Math.min(this.items.length - 1, index));
    const old = this.tiles.get(this.items[this.focus]?.id);
    if (old) old.classList.remove('focus');
    this.focus = i;
    const tile = this.tiles.get(this.items[i].id);
    tile.classList.add('focus');
    tile.scrollIntoView({ block: 'nearest' });
    if (i > this.items.length - this.columns() * 3) this.loadMore();
  }

  move(dx, dy) {
    this.setFocus(this.focus + dx + dy * this.columns());
  }

  // A mark stored (here or in another tab): update every loaded tile showing that image.
  apply(ids, mark) {
    for (const id of ids) {
      const tile = this.tiles.get(id);
      if (!tile) continue;
      const item = this.items[Number(tile.dataset.index)];
      Object.assign(item, { rating: mark.rating, pick: mark.pick, reject: mark.reject, tags: mark.tags });
      paint(tile, item);
    }
  }
}
