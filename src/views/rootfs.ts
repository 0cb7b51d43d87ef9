/**
 * Views of the root file-system changes (`ckpt rootfs`): a tree by directory, and JSON (also the
 * entries of an extraction's manifest). Pure: model objects in, text or plain JSON out.
 */
import { fileModeText, type RootfsChanges, type RootfsDeletion, type RootfsEntry } from '../model/rootfs.js';
import { byteSize, rfc3339, safe, style, type Style } from './format.js';
import { renderTree, type TreeNode } from './tree.js';

/** An entry as JSON: stable key order, null for what has no value, the mode as octal text. */
export function rootfsEntryJson(e: RootfsEntry): Record<string, unknown> {
  return {
    path: e.path,
    type: e.type,
    mode: `0${e.mode.toString(8).padStart(3, '0')}`,
    modeText: fileModeText(e.type, e.mode),
    setuid: e.setuid,
    setgid: e.setgid,
    sticky: e.sticky,
    uid: e.uid,
    gid: e.gid,
    user: e.user,
    group: e.group,
    size: e.size,
    mtime: e.mtime,
    linkTarget: e.linkTarget,
    device: e.device,
    sha256: e.sha256,
    name: e.name,
    offset: e.offset,
  };
}

export function rootfsDeletionJson(d: RootfsDeletion): Record<string, unknown> {
  return { path: d.path, how: d.how, member: d.member, offset: d.offset };
}

/** `ckpt rootfs --format json` for one checkpoint. */
export function rootfsJson(label: string, c: RootfsChanges): Record<string, unknown> {
  return {
    checkpoint: label,
    member: c.member,
    compression: c.compression,
    entries: c.entries.map(rootfsEntryJson),
    deleted: c.deleted.map(rootfsDeletionJson),
  };
}

interface DirNode {
  name: string;
  entry?: RootfsEntry;
  deleted?: RootfsDeletion;
  children: Map<string, DirNode>;
}

function entryText(e: RootfsEntry, s: Style): string {
  const parts = [fileModeText(e.type, e.mode), `${e.user ?? e.uid}:${e.group ?? e.gid}`];
  if (e.type === 'file') parts.push(byteSize(e.size));
  if (e.mtime) parts.push(rfc3339(e.mtime));
  if (e.device) parts.push(`device ${e.device.major}:${e.device.minor}`);
  if (e.linkTarget !== null) parts.push(`${e.type === 'hardlink' ? 'link to' : '->'} ${safe(e.linkTarget)}`);
  if (e.sha256) parts.push(s.dim(`sha256:${e.sha256}`));
  const flags = [e.setuid && 'setuid', e.setgid && 'setgid', e.sticky && 'sticky'].filter(Boolean) as string[];
  const flagText = flags.length ? ` ${s.red(`[${flags.join(', ')}]`)}` : '';
  return `${parts.join('  ')}${flagText}`;
}

/** Splits a container path into its components, '' for the root. */
function components(p: string): string[] {
  return p.split('/').filter((x) => x !== '' && x !== '.');
}

/** The tree of `ckpt rootfs`: directories with their changed entries, deletions marked. */
export function rootfsTree(label: string, c: RootfsChanges, options: { colour?: boolean } = {}): string {
  const s = style(options.colour);
  const top: DirNode = { name: '/', children: new Map() };
  const place = (p: string): DirNode => {
    let node = top;
    for (const part of components(p)) {
      let next = node.children.get(part);
      if (!next) node.children.set(part, (next = { name: part, children: new Map() }));
      node = next;
    }
    return node;
  };
  for (const e of c.entries) place(e.path).entry = e;
  for (const d of c.deleted) place(d.path).deleted = d;
  const toTree = (n: DirNode): TreeNode => {
    const isDir = n.entry?.type === 'directory' || (!n.entry && n.children.size > 0);
    const name = n === top ? '/' : safe(n.name) + (isDir ? '/' : '');
    let text = name;
    if (n.entry) text += `  ${entryText(n.entry, s)}`;
    if (n.deleted) {
      const how = n.deleted.how === 'opaque' ? 'opaque: lower contents hidden' : n.deleted.how === 'whiteout' ? 'deleted: whiteout' : 'deleted';
      text = `${n.entry ? text : s.red(name)}  ${s.red(`(${how})`)}`;
    }
    const kids = [...n.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { text, children: kids.map(toTree) };
  };
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const files = c.entries.filter((e) => e.type === 'file').length;
  const dirs = c.entries.filter((e) => e.type === 'directory').length;
  const other = c.entries.length - files - dirs;
  const summary =
    c.member === null
      ? 'no root file-system diff in this checkpoint'
      : `${plural(c.entries.length, 'entry', 'entries')} (${plural(files, 'file', 'files')}, ${plural(dirs, 'directory', 'directories')}${other ? `, ${other} other` : ''}), ${c.deleted.length} deleted${c.compression && c.compression !== 'none' ? `; ${c.member} is ${c.compression}-compressed` : ''}`;
  const root = toTree(top);
  return renderTree({ text: `${s.bold(safe(label))}: ${summary}`, children: c.member === null && c.deleted.length === 0 ? [] : [root] });
}
