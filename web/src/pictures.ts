/**
 * Pictures (SVG): a process's memory map (regions in address order, coloured by kind, with the
 * dumped fraction and the protection) and the container's process tree.
 */
import type { MemoryRegion, Process } from '../../src/index.js';
import { byteSize } from '../../src/views/format.js';
import { s, t, hex } from './dom.js';

/** Colour of a region kind (RegionLabel); the legend lists them. */
export const KIND_COLOURS: Record<string, string> = {
  heap: '#d9480f',
  stack: '#e8a317',
  anon: '#3b6fb6',
  file: '#2f9e44',
  'anon shared': '#9c36b5',
  memfd: '#e64980',
  'sysv shm': '#8d6e63',
  vdso: '#868e96',
  vvar: '#868e96',
  vsyscall: '#868e96',
  guard: '#ced4da',
};
export const OTHER_COLOUR = '#0c8599';

export function kindColour(label: string): string {
  return KIND_COLOURS[label] ?? OTHER_COLOUR;
}

const MAP_WIDTH = 940;
const BAR_X = 150;
const BAR_W = 260;

/**
 * The memory map: one band per region, top to bottom in address order. A band's height grows
 * with the log of its size; its light part is the whole region, its solid part the share of
 * pages whose bytes are in the checkpoint. Three squares give r, w, x; a region both writable and
 * executable is outlined in red. Gaps between regions are
 * marked with their size. `onPick` gets the region clicked.
 */
export function memoryMap(regions: MemoryRegion[], pageSize: number, onPick: (r: MemoryRegion, index: number) => void): SVGElement {
  const parts: SVGElement[] = [];
  let y = 4;
  let prevEnd: bigint | undefined;
  regions.forEach((r, i) => {
    if (prevEnd !== undefined && r.start > prevEnd) {
      const gap = r.start - prevEnd;
      parts.push(
        s('line', { x1: BAR_X, x2: BAR_X + BAR_W, y1: y + 4, y2: y + 4, class: 'gap' }),
        s('text', { x: BAR_X + BAR_W + 10, y: y + 7, class: 'gaptext' }, `unmapped ${gap > BigInt(Number.MAX_SAFE_INTEGER) ? hex(gap) : byteSize(Number(gap))}`),
      );
      y += 10;
    }
    const pages = Math.max(1, r.pages);
    const height = Math.round(14 + Math.min(22, 1.6 * Math.log2(pages)));
    const colour = kindColour(r.label);
    const dumped = Math.min(1, r.pagesPresent / pages);
    const size = Number(r.end - r.start);
    // writable and executable at once: outlined in red (the findings' writable-executable-memory)
    const wx = r.perms[1] === 'w' && r.perms[2] === 'x';
    const title = `${hex(r.start)}-${hex(r.end)} ${r.perms} ${r.label}${r.path ? ' ' + t(r.path) : ''}\n${byteSize(size)}, ${r.pagesPresent} of ${r.pages} pages dumped (${(dumped * 100).toFixed(0)}%)`;
    const g = s(
      'g',
      { class: wx ? 'region wx' : 'region', 'data-index': i, 'data-start': hex(r.start), 'data-end': hex(r.end), 'data-kind': r.label, 'data-perms': r.perms, 'data-present': r.pagesPresent, 'data-pages': r.pages, tabindex: 0, role: 'button' },
      s('title', {}, title),
      s('text', { x: 4, y: y + height / 2 + 4, class: 'addr' }, hex(r.start)),
      s('rect', { x: BAR_X, y, width: BAR_W, height, fill: colour, 'fill-opacity': 0.22, stroke: colour, 'stroke-width': 1 }),
      s('rect', { x: BAR_X, y, width: Math.max(dumped > 0 ? 1 : 0, Math.round(BAR_W * dumped)), height, fill: colour, class: 'dumped' }),
      ...['r', 'w', 'x'].map((p, k) =>
        s('rect', { x: BAR_X + BAR_W + 8 + k * 11, y: y + height / 2 - 4.5, width: 9, height: 9, class: r.perms[k] === p ? `prot on ${p}` : 'prot off' }),
      ),
      s('text', { x: BAR_X + BAR_W + 46, y: y + height / 2 + 4, class: 'rlabel' }, `${r.perms} ${r.label} ${byteSize(size)} · ${(dumped * 100).toFixed(0)}% dumped${wx ? ' · writable and executable' : ''}${r.path ? ' · ' + t(r.path) : ''}`),
    );
    g.addEventListener('click', () => onPick(r, i));
    g.addEventListener('keydown', (ev) => {
      if ((ev as KeyboardEvent).key === 'Enter') onPick(r, i);
    });
    parts.push(g);
    y += height + 2;
    prevEnd = r.end;
  });
  void pageSize;
  return s('svg', { class: 'memmap', width: MAP_WIDTH, height: y + 4, viewBox: `0 0 ${MAP_WIDTH} ${y + 4}`, 'data-regions': regions.length }, ...parts);
}

/** The legend of kinds for the memory map (only the kinds present). */
export function legend(kinds: string[]): SVGElement {
  const items: SVGElement[] = [];
  let x = 0;
  for (const k of kinds) {
    items.push(s('rect', { x, y: 3, width: 12, height: 12, fill: kindColour(k) }), s('text', { x: x + 16, y: 13 }, k));
    x += 24 + k.length * 7;
  }
  items.push(s('rect', { x: x + 10, y: 3, width: 12, height: 12, fill: '#888', 'fill-opacity': 0.22, stroke: '#888' }), s('text', { x: x + 26, y: 13 }, 'not dumped'));
  return s('svg', { class: 'legend', width: x + 120, height: 18 }, ...items);
}

const NODE_W = 170;
const NODE_H = 46;
const GAP_X = 18;
const GAP_Y = 46;

export const STATE_COLOURS: Record<string, string> = { alive: '#2f9e44', stopped: '#e8a317', zombie: '#868e96', dead: '#c92a2a', unknown: '#495057' };

/** The process tree as boxes and links: children below their parent, leaves side by side. */
export function processTree(roots: Process[], onPick: (p: Process) => void): SVGElement {
  const pos = new Map<number, { x: number; y: number; p: Process }>();
  let next = 0;
  let depthMax = 0;
  const seen = new Set<number>();
  const place = (p: Process, depth: number): number => {
    if (seen.has(p.pid)) return next; // a loop in a damaged tree
    seen.add(p.pid);
    depthMax = Math.max(depthMax, depth);
    const xs = p.children.map((c) => place(c, depth + 1));
    const x = xs.length ? (xs[0]! + xs[xs.length - 1]!) / 2 : next++;
    pos.set(p.pid, { x, y: depth, p });
    return x;
  };
  for (const r of roots) place(r, 0);
  const px = (x: number) => 8 + x * (NODE_W + GAP_X);
  const py = (y: number) => 8 + y * (NODE_H + GAP_Y);
  const links: SVGElement[] = [];
  const nodes: SVGElement[] = [];
  for (const { x, y, p } of pos.values()) {
    for (const c of p.children) {
      const cp = pos.get(c.pid);
      if (!cp) continue;
      const x1 = px(x) + NODE_W / 2;
      const y1 = py(y) + NODE_H;
      const x2 = px(cp.x) + NODE_W / 2;
      const y2 = py(cp.y);
      links.push(s('path', { d: `M${x1},${y1} C${x1},${(y1 + y2) / 2} ${x2},${(y1 + y2) / 2} ${x2},${y2}`, class: 'link' }));
    }
    const colour = STATE_COLOURS[p.state] ?? STATE_COLOURS.unknown!;
    const threads = p.threads.length > 1 ? ` · ${p.threads.length} threads` : '';
    const g = s(
      'g',
      { class: 'proc', 'data-pid': p.pid, 'data-comm': p.comm, 'data-state': p.state, tabindex: 0, role: 'button', transform: `translate(${px(x)},${py(y)})` },
      s('title', {}, `pid ${p.pid} ${t(p.comm)} (${p.state})${p.exe ? '\n' + t(p.exe) : ''}`),
      s('rect', { width: NODE_W, height: NODE_H, rx: 6, stroke: colour, class: 'node' }),
      s('rect', { width: 6, height: NODE_H, rx: 2, fill: colour }),
      s('text', { x: 12, y: 18, class: 'pname' }, `${p.pid} ${t(p.comm).slice(0, 18)}`),
      s('text', { x: 12, y: 36, class: 'pstate' }, `${p.state}${threads}`),
    );
    g.addEventListener('click', () => onPick(p));
    nodes.push(g);
  }
  const width = px(next) + 8;
  const height = py(depthMax + 1) - GAP_Y + 16;
  return s('svg', { class: 'ptree', width, height, viewBox: `0 0 ${width} ${height}` }, ...links, ...nodes);
}
