/**
 * The facts files of the fixtures (testdata/facts/<name>.json, written by the lab scripts that made
 * the fixtures), typed: tests read pids, paths, addresses and bytes from here, never hard-coded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The container a Podman fixture ran in (the `container` of its facts file). */
export interface ContainerFacts {
  name: string;
  id: string;
  image: string;
  image_id: string;
  env_secret: string;
}

/** A process of a fixture's workload with the role it played. */
export interface ProcessRoleFacts {
  pid: number;
  comm: string;
  role: string;
}

/** A process of a process-tree workload: its parent and, for a threaded one, its threads. */
export interface TreeProcessFacts extends ProcessRoleFacts {
  ppid: number;
  threads?: {
    tid: number;
    comm: string;
  }[];
}

/** A secret a workload planted in memory, with where CRIU's images hold it. */
export interface SecretFacts {
  kind: string;
  pid: number;
  addr: string;
  len: number;
  marker: string;
  note?: string;
  image: {
    vma_start: string;
    vma_end: string;
    vma_status: string;
    pagemap: string;
    pages: string;
    offset: number;
    memfd_name?: string;
    shmem_offset?: number;
  };
}

/** testdata/facts/procs.json */
export interface ProcsFacts {
  container: ContainerFacts;
  mode: string;
  pid: number;
  comm: string;
  processes: (TreeProcessFacts & {
    exit_status?: number;
    signal?: string;
    exe?: string;
    argc?: number;
    arg_start?: string;
    arg_end?: string;
    arg_bytes?: number;
    env_start?: string;
    env_end?: string;
    env_bytes?: number;
  })[];
  longargv: {
    pid: number;
    argv0: string;
    argv1: string;
    argv_pattern: string;
    argv_first: string;
    argv_last: string;
    env: string[];
  };
  secrets: (SecretFacts & {
    map_start?: string;
    offset?: number;
    fd?: number;
    name?: string;
    shmid?: number;
    key?: number;
    page_boundary?: string;
  })[];
  marker_index: Record<string, string[]>;
}

/** testdata/facts/net.json */
export interface NetFacts {
  container: ContainerFacts;
  mode: string;
  pid: number;
  comm: string;
  processes: ProcessRoleFacts[];
  tcp: {
    fd: number;
    family: string;
    state: string;
    local: string;
    role?: string;
    remote?: string;
    unread?: string;
  }[];
  udp: {
    fd: number;
    family: string;
    local: string;
    remote?: string;
  }[];
  unix: {
    fd: number;
    type: string;
    state?: string;
    path?: string;
    role?: string;
    peer?: string;
    unread?: string;
    peer_fd?: number;
  }[];
  pipe: {
    read_fd: number;
    write_fd: number;
    unread: string;
  };
  marker_index: Record<string, string[]>;
}

/** testdata/facts/files.json */
export interface FilesFacts {
  container: ContainerFacts;
  mode: string;
  pid: number;
  comm: string;
  processes: ProcessRoleFacts[];
  rootfs: {
    modified: {
      path: string;
      content: string;
    }[];
    added: {
      path: string;
      content?: string;
      size?: number;
    }[];
    deleted: string[];
  };
  fds: {
    unlinked: {
      fd: number;
      path: string;
      size: number;
      content: string;
      flags: string;
    };
    memfd: {
      fd: number;
      name: string;
      size: number;
      content: string;
    };
    eventfd: {
      fd: number;
      count: number;
      flags: string;
    };
    timerfd: {
      fd: number;
      clock: string;
      value_sec: number;
      interval_sec: number;
    };
    signalfd: {
      fd: number;
      signals: string[];
      sigmask: string;
    };
    inotify: {
      fd: number;
      watches: {
        wd: number;
        path: string;
        mask: string;
      }[];
    };
    epoll: {
      fd: number;
      targets: {
        fd: number;
        events: string;
        data: string;
      }[];
    };
    pipe: {
      read_fd: number;
      write_fd: number;
    };
    write: {
      fd: number;
      path: string;
      pos: number;
      size: number;
      flags: string;
    };
    read: {
      fd: number;
      path: string;
      pos: number;
      flags: string;
    };
  };
  marker_index: Record<string, string[]>;
}

/** testdata/facts/compromised.json */
export interface CompromisedFacts {
  mode: string;
  pid: number;
  rwx: {
    start: string;
    marker_addr: string;
    marker: string;
    code_hex: string;
    region: {
      start: string;
      end: string;
      perms: string;
      offset: string;
      path: string;
    };
  };
  libc_patch: {
    function: string;
    addr: string;
    page: string;
    bytes_hex: string;
    marker: string;
    region: {
      start: string;
      end: string;
      perms: string;
      offset: string;
      path: string;
    };
  };
  children: {
    memfd: number;
    deleted: number;
    preload: number;
    shell: number;
  };
  listener: {
    pid: number;
    fd: number;
    port: number;
    conn_fd: number;
  };
  deleted_fd: number;
  memfd_fd: number;
  container: {
    name: string;
    id: string;
    image: string;
    image_id: string;
  };
  files: {
    setuid: string;
    passwd_line: string;
    tmp_executable: string;
    hidden_executable: string;
    authorized_keys: string;
    cron: string;
    ld_so_preload: string;
    deleted_open: string;
    deleted_exe: string;
    preload_library: string;
  };
  processes: {
    pid: number;
    maps: {
      start: string;
      end: string;
      perms: string;
      offset: string;
      path: string;
    }[];
    comm: string;
    exe: string;
    cmdline: string;
    fds: {
      "0": string;
      "1": string;
      "2": string;
      "3"?: string;
      "4"?: string;
      "5"?: string;
      "6"?: string;
    };
  }[];
}

/** testdata/facts/devshm.json */
export interface DevshmFacts {
  container: {
    name: string;
    image: string;
  };
  devshm: {
    files: {
      path: string;
      size: number;
      sha256: string;
    }[];
    symlinks: {
      path: string;
      target: string;
    }[];
    contents: {
      "/dev/shm/ckpt-session.key": string;
    };
  };
}

/** testdata/facts/sendq.json */
export interface SendqFacts {
  container: {
    name: string;
    image: string;
  };
  stream: {
    line: string;
    first: number;
    count: number;
  };
  receiver: {
    comm: string;
    fd: number;
    port: number;
    reads: boolean;
  };
  sender: {
    comm: string;
    fd: number;
    stdin_fd: number;
  };
  order: string[];
}

/** testdata/facts/bare-procs-tree.json */
export interface BareProcsTreeFacts {
  criu_dump: string;
  mode: string;
  pid: number;
  comm: string;
  processes: TreeProcessFacts[];
  secrets: (SecretFacts & { note: string })[];
  marker_index: Record<string, string[]>;
}

export interface Facts {
  procs: ProcsFacts;
  net: NetFacts;
  files: FilesFacts;
  compromised: CompromisedFacts;
  devshm: DevshmFacts;
  sendq: SendqFacts;
  'bare-procs-tree': BareProcsTreeFacts;
}

/** The facts of one fixture, read from testdata/facts/<name>.json. */
export function facts<N extends keyof Facts>(name: N): Facts[N] {
  return JSON.parse(readFileSync(join(__dirname, '..', 'testdata', 'facts', `${name}.json`), 'utf8')) as Facts[N];
}
