/**
 * Image kinds the Podman corpus does not have (fifo-data, file locks, SysV message queues and
 * semaphores, ttys, a stopped and a dead task, packet/netlink/epoll/eventfd/timerfd/inotify/tty/fifo
 * file entries, unix names with bytes that need quoting), from a bare `criu dump` of a Python
 * workload in the checkpoint lab (CRIU 4.2.1), with crit 4.2.1's decoding of each.
 *
 * `pretty` is `crit decode --pretty` re-serialised on one line by Python's json.dumps (so it is
 * compared with stringifyJson(..., false) of the pretty values), `plain` is `crit decode`.
 * task_state 3 (a stopped task, core-29) is printed with crit's names here: see images-oracle.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, stringifyJson, toCritJson } from '../src/images/index.js';

const DIR = join(__dirname, '..', 'testdata', 'lab', 'extra-images');
/** Each image (real CRIU bytes) with crit's decoding of it: `pretty` always, `plain` for some. */
const LAB = readdirSync(join(DIR, 'images'))
  .sort()
  .map((image) => {
    const crit = (kind: string) => {
      const f = join(DIR, 'crit', `${image}.${kind}.json`);
      return existsSync(f) ? readFileSync(f, 'utf8').replace(/\n$/, '') : undefined;
    };
    return { image, bytes: new Uint8Array(readFileSync(join(DIR, 'images', image))), pretty: crit('pretty')!, plain: crit('plain') };
  });

describe('lab images (bare criu dump) against crit', () => {
  it('every image of the lab run is there', () => {
    expect(LAB.map((l) => l.image)).toEqual(['core-29.img', 'core-30.img', 'fdinfo-2.img', 'fifo-data.img', 'filelocks.img', 'files.img', 'ipcns-msg-9.img', 'ipcns-sem-9.img', 'pstree.img', 'tty-data.img', 'tty-info.img']);
  });

  for (const { image, bytes, pretty, plain } of LAB) {
    it(image, () => {
      expect(pretty, `crit's decoding of ${image}`).toBeDefined();
      const img = decodeImage(`checkpoint/${image}`, bytes);
      expect(stringifyJson(toCritJson(img, { critTaskStateNames: true }), false)).toBe(pretty);
      if (plain) expect(stringifyJson(toCritJson(img, { pretty: false }), false)).toBe(plain);
    });
  }

  it('has the stopped and the dead task', () => {
    const states = LAB.filter((l) => l.image.startsWith('core-')).map((l) => {
      const img = decodeImage(l.image, l.bytes);
      return (img.entries[0]!.tc as { task_state: number; exit_code: number; stop_signo?: number });
    });
    expect(states.map((s) => s.task_state)).toEqual([3, 2]);
    expect(states[0]!.stop_signo).toBe(19);
    expect(states[1]!.exit_code).toBe(3 << 8);
  });
});
