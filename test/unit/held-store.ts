import { MemoryBlobStore } from '../../src/index.ts';

/** A held call: `started` resolves when it begins; it waits until `release()`. */
export interface Hold {
  /** Resolves when the held call begins (never, if no call came). */
  readonly started: Promise<void>;
  /** Whether a call was held. */
  readonly hit: boolean;
  /** Lets the held call go on. */
  release(): void;
  /** Disarms the hold if no call has taken it yet (a later call goes through at once). */
  cancel(): void;
}

interface Armed {
  begin(): Promise<void>;
  readonly hold: Hold;
}

function arm(disarm: () => void): Armed {
  let started!: () => void;
  let release!: () => void;
  let hit = false;
  const startedP = new Promise<void>((resolve) => (started = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  return {
    begin: () => {
      hit = true;
      started();
      return released;
    },
    hold: {
      started: startedP,
      get hit() {
        return hit;
      },
      release,
      cancel: disarm,
    },
  };
}

/**
 * Memory blobs for race tests: the next write or read can be held open until released,
 * writes of files starting with `failWrites` fail after storing half of their bytes (as a
 * partial write in place leaves them), and the next `refuseRemoves` removals fail.
 */
export class HeldStore extends MemoryBlobStore {
  #write: Armed | undefined;
  #read: Armed | undefined;
  failWrites: string | undefined;
  refuseRemoves = 0;

  holdNextWrite(): Hold {
    const armed = arm(() => {
      if (this.#write === armed) this.#write = undefined;
    });
    this.#write = armed;
    return armed.hold;
  }

  holdNextRead(): Hold {
    const armed = arm(() => {
      if (this.#read === armed) this.#read = undefined;
    });
    this.#read = armed;
    return armed.hold;
  }

  override async write(name: string, bytes: Uint8Array): Promise<void> {
    const armed = this.#write;
    this.#write = undefined;
    if (armed) await armed.begin();
    if (this.failWrites !== undefined && name.startsWith(this.failWrites)) {
      await super.write(name, bytes.subarray(0, bytes.length >> 1));
      throw new Error('disk full');
    }
    return super.write(name, bytes);
  }

  override async read(name: string, offset?: number, length?: number): Promise<Uint8Array> {
    const armed = this.#read;
    this.#read = undefined;
    if (armed) await armed.begin();
    return super.read(name, offset, length);
  }

  override async remove(name: string): Promise<void> {
    if (this.refuseRemoves > 0) {
      this.refuseRemoves--;
      throw new Error('file is busy');
    }
    return super.remove(name);
  }
}
