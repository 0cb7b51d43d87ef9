/**
 * Container metadata from the engine's own files: config.dump and spec.dump (all engines),
 * network.status (Podman), bind.mounts (CRI-O), status and status.dump (containerd),
 * deleted.files. Which engine wrote the checkpoint is told by spec.dump's `io.container.manager`
 * annotation (`libpod` for Podman, `cri-o` for CRI-O), by containerd's `io.kubernetes.cri.*`
 * annotations and its `status` file, and, with no metadata at all, it is a bare CRIU dump.
 */
import { CkptError } from '../errors.js';
import { MEMBERS } from '../source/layout.js';
import { deeperThan, MAX_JSON_DEPTH, type ImageSet } from './image-set.js';
import type { CheckpointProblem, ContainerInfo, Engine, NetworkInterface, SpecMount } from './types.js';

/** Records a missing or damaged part (Checkpoint.noteProblem). */
export type NoteProblem = (problem: CheckpointProblem) => void;

type Json = Record<string, unknown>;

const ZERO_TIME = /^0001-01-01T00:00:00/;

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function time(v: unknown): string | undefined {
  const s = str(v);
  return s && !ZERO_TIME.test(s) ? s : undefined;
}

function obj(v: unknown): Json | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}

/** containerd's status file records times as Unix nanoseconds. */
function nanosToIso(v: unknown): string | undefined {
  if (typeof v !== 'number' && typeof v !== 'string') return undefined;
  // a number that is no integer (1e400 is Infinity), or a time JavaScript's Date cannot hold: no time
  const n = typeof v === 'number' ? (Number.isFinite(v) ? BigInt(Math.trunc(v)) : undefined) : /^\d+$/.test(v) ? BigInt(v) : undefined;
  if (n === undefined || n <= 0n) return undefined;
  const ms = Number(n / 1_000_000n);
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return undefined;
  const frac = (n % 1_000_000_000n).toString().padStart(9, '0');
  return date.toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}

/** Parses annotation values that hold JSON objects or arrays. */
export function expandAnnotations(a: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) {
    const t = v.trim();
    if (!(t.startsWith('{') || t.startsWith('['))) continue;
    if (deeperThan(t, MAX_JSON_DEPTH) !== undefined) continue; // too deep to show expanded: left a string
    try {
      out[k] = JSON.parse(t);
    } catch {
      // not JSON after all: leave it a string
    }
  }
  return out;
}

export function detectEngine(images: ImageSet, annotations: Record<string, string>): Engine {
  const manager = annotations['io.container.manager'];
  if (manager === 'libpod') return 'Podman';
  if (manager === 'cri-o') return 'CRI-O';
  if (manager === 'containerd') return 'containerd';
  if (Object.keys(annotations).some((k) => k.startsWith('io.kubernetes.cri.'))) return 'containerd';
  if (images.has('status') || images.has('status.dump')) return 'containerd';
  if (Object.keys(annotations).some((k) => k.startsWith('io.kubernetes.cri-o.')) || images.has(MEMBERS.bindMounts)) return 'CRI-O';
  // engine metadata that names no engine: say so rather than guess
  if (images.has(MEMBERS.config) || images.has(MEMBERS.spec)) return 'unknown';
  return 'CRIU';
}

function networkFromPodman(status: unknown): NetworkInterface[] {
  // Podman 4+: { "<network>": { "interfaces": { "eth0": { "subnets": [{ "ipnet", "gateway" }], "mac_address" } } } }
  const out: NetworkInterface[] = [];
  const top = obj(status);
  if (!top) {
    // Podman 3 / CNI: an array of results { interfaces: [{name, mac}], ips: [{address, gateway, interface}] }
    if (Array.isArray(status)) {
      for (const r of status) {
        const res = obj(r);
        const ifs = Array.isArray(res?.interfaces) ? (res!.interfaces as unknown[]) : [];
        const ips = Array.isArray(res?.ips) ? (res!.ips as unknown[]) : [];
        ifs.forEach((i, idx) => {
          const f = obj(i);
          const mine = ips.map(obj).filter((ip) => ip && (ip.interface === idx || ip.interface === undefined));
          out.push({
            name: str(f?.name) ?? `if${idx}`,
            mac: str(f?.mac),
            addresses: mine.map((ip) => str(ip!.address)).filter((x): x is string => !!x),
            gateways: mine.map((ip) => str(ip!.gateway)).filter((x): x is string => !!x),
          });
        });
      }
    }
    return out;
  }
  for (const [network, v] of Object.entries(top)) {
    const ifs = obj(obj(v)?.interfaces);
    if (!ifs) continue;
    for (const [name, iv] of Object.entries(ifs)) {
      const i = obj(iv) ?? {};
      const subnets = Array.isArray(i.subnets) ? (i.subnets as unknown[]).map(obj) : [];
      out.push({
        network,
        name,
        mac: str(i.mac_address),
        addresses: subnets.map((s) => str(s?.ipnet)).filter((x): x is string => !!x),
        gateways: subnets.map((s) => str(s?.gateway)).filter((x): x is string => !!x),
      });
    }
  }
  return out;
}

/** Image ID from a reference like `name@sha256:…` or a bare `sha256:…`/hex ID. */
function idFromRef(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const at = ref.lastIndexOf('@');
  const tail = at >= 0 ? ref.slice(at + 1) : ref;
  const m = /^(?:sha256:)?([0-9a-f]{64})$/.exec(tail);
  return m ? m[1] : undefined;
}

/**
 * A metadata file parsed as JSON; with `note`, a file that is not valid JSON is recorded as damaged
 * (at the byte where parsing failed) and read as absent, otherwise it throws.
 */
function metadataJson(images: ImageSet, path: string, note: NoteProblem | undefined, what: string): unknown {
  try {
    return images.json(path);
  } catch (e) {
    if (!(e instanceof CkptError) || !note) throw e;
    note({ kind: 'damaged', file: path, offset: e.offset ?? null, message: `${e.reason}: ${what} not shown` });
    return undefined;
  }
}

/**
 * The container facts. A config.dump, spec.dump or network.status that is not valid JSON, and a
 * missing spec.dump or config.dump next to the other, are recorded with `note` (when given: the
 * rest is still read) or thrown (without it).
 */
export function readContainerInfo(images: ImageSet, note?: NoteProblem): ContainerInfo {
  const configJson = metadataJson(images, MEMBERS.config, note, 'container name, image, runtime and times');
  const specJson = metadataJson(images, MEMBERS.spec, note, 'engine, annotations, hostname and mounts');
  if (note && images.has(MEMBERS.config) && !images.has(MEMBERS.spec)) note({ kind: 'missing', file: MEMBERS.spec, offset: null, message: 'no OCI spec: engine, annotations, hostname and mounts not known' });
  if (note && images.has(MEMBERS.spec) && !images.has(MEMBERS.config)) note({ kind: 'missing', file: MEMBERS.config, offset: null, message: "no engine configuration: container name, image, runtime and times not known" });
  const config = obj(configJson) ?? {};
  const spec = obj(specJson) ?? {};
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(spec.annotations) ?? {})) annotations[k] = typeof v === 'string' ? v : JSON.stringify(v);
  const expanded = expandAnnotations(annotations);
  const engine = detectEngine(images, annotations);
  const statusDump = obj(metadataJson(images, 'status.dump', note, 'containerd status'));
  const status = obj(metadataJson(images, 'status', note, 'containerd status'));
  const deleted = metadataJson(images, MEMBERS.deletedFiles, note, 'deleted files');

  const info: ContainerInfo = {
    id: str(config.id),
    name: str(config.name),
    engine,
    image: {
      name: str(config.rootfsImageName),
      id: str(config.rootfsImageID),
      ref: str(config.rootfsImageRef),
      requested: str(config.rootfsImage) ?? str(config.RawImageName),
    },
    runtime: str(config.runtime),
    created: time(config.createdTime),
    checkpointed: time(config.checkpointedTime),
    hostname: str(spec.hostname),
    annotations,
    expandedAnnotations: expanded,
    network: { interfaces: [] },
    command: Array.isArray(obj(spec.process)?.args) ? ((obj(spec.process)!.args as unknown[]).filter((a) => typeof a === 'string') as string[]) : undefined,
    deletedFiles: Array.isArray(deleted) ? deleted.filter((d): d is string => typeof d === 'string') : [],
  };

  if (engine === 'Podman') {
    info.pod = str(config.pod);
  } else if (engine === 'CRI-O') {
    const md = obj(expanded['io.kubernetes.cri-o.Metadata']);
    info.name = str(md?.name) ?? str(annotations['io.kubernetes.container.name']) ?? str(annotations['io.kubernetes.cri-o.ContainerName']) ?? info.name;
    info.id = info.id ?? str(annotations['io.kubernetes.cri-o.ContainerID']);
    info.created = time(annotations['io.kubernetes.cri-o.Created']) ?? info.created;
    info.pod = str(annotations['io.kubernetes.pod.name']);
    info.namespace = str(annotations['io.kubernetes.pod.namespace']);
    info.image.name = info.image.name ?? str(annotations['io.kubernetes.cri-o.ImageName']);
    info.image.ref = info.image.ref ?? str(annotations['io.kubernetes.cri-o.ImageRef']);
    info.image.requested = info.image.requested ?? str(annotations['io.kubernetes.cri-o.UserRequestedImage']);
  } else if (engine === 'containerd') {
    const md = obj(statusDump?.metadata);
    info.name = str(annotations['io.kubernetes.cri.container-name']) ?? str(md?.name) ?? info.name;
    info.pod = str(annotations['io.kubernetes.cri.sandbox-name']);
    info.namespace = str(annotations['io.kubernetes.cri.sandbox-namespace']);
    info.id = info.id ?? str(statusDump?.id);
    info.image.name = info.image.name ?? str(annotations['io.kubernetes.cri.image-name']) ?? str(obj(statusDump?.image)?.image);
    info.image.ref = info.image.ref ?? str(statusDump?.image_ref);
    info.created = info.created ?? nanosToIso(status?.CreatedAt) ?? nanosToIso(statusDump?.created_at);
  }
  info.image.id = info.image.id ?? idFromRef(info.image.ref);

  const ns = metadataJson(images, MEMBERS.networkStatus, note, 'networks');
  if (ns !== undefined && ns !== null) {
    info.network = { status: ns, interfaces: networkFromPodman(ns) };
  }
  const ip = annotations['io.kubernetes.cri-o.IP.0'];
  if (ip && info.network.interfaces.length === 0) info.network.interfaces.push({ name: 'eth0', addresses: [ip], gateways: [] });
  return info;
}

export function readSpecMounts(images: ImageSet): SpecMount[] {
  const spec = obj(images.json(MEMBERS.spec));
  const mounts = Array.isArray(spec?.mounts) ? (spec!.mounts as unknown[]) : [];
  return mounts.map((m) => {
    const o = obj(m) ?? {};
    return {
      destination: str(o.destination) ?? '',
      type: str(o.type) ?? '',
      source: str(o.source) ?? '',
      options: Array.isArray(o.options) ? (o.options as unknown[]).filter((x): x is string => typeof x === 'string') : [],
    };
  });
}
