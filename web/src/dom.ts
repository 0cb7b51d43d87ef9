/** Small DOM helpers: elements built with text nodes only (nothing from a checkpoint is parsed as HTML). */
import { safe } from '../../src/views/format.js';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s(tag: string, attrs: Attrs = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Text from a checkpoint, with control characters escaped (`\x1b`, `\n`). */
export function t(text: string | undefined | null): string {
  return text == null ? '' : safe(text);
}

/** A table from a header and rows of cells. */
export function table(head: string[], rows: Child[][], attrs: Attrs = {}): HTMLTableElement {
  return h(
    'table',
    attrs,
    h('thead', {}, h('tr', {}, ...head.map((x) => h('th', {}, x)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))),
  );
}

/** A two-column table of facts; rows without a value are left out. */
export function facts(rows: [string, Child][], attrs: Attrs = {}): HTMLTableElement {
  const kept = rows.filter(([, v]) => v !== undefined && v !== null && v !== '' && v !== false);
  return h('table', { class: 'facts', ...attrs }, h('tbody', {}, ...kept.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))));
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`no #${id}`);
  return el;
}

export function hex(n: bigint | number): string {
  return `0x${n.toString(16)}`;
}
