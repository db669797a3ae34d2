import { expect } from 'chai';
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { createInteractionHandOff } from '../../src/storage/oidc/interaction-hand-off.ts';

/** A store that keeps records in a map and lists the calls that reached it. */
function recordingStore() {
  const records = new Map<string, { payload: AdapterPayload; expiresIn: number | undefined }>();
  const calls: string[] = [];
  const adapter: Adapter = {
    async upsert(id, payload, expiresIn) {
      calls.push(`upsert ${id}`);
      records.set(id, { payload: structuredClone(payload), expiresIn });
    },
    async find(id) {
      calls.push(`find ${id}`);
      const record = records.get(id);
      return record === undefined ? undefined : structuredClone(record.payload);
    },
    async findByUid() {
      return undefined;
    },
    async findByUserCode() {
      return undefined;
    },
    async consume() {},
    async destroy(id) {
      calls.push(`destroy ${id}`);
      records.delete(id);
    },
    async revokeByGrantId() {},
  };
  return { adapter, records, calls };
}

describe('interaction hand-off (a finished step and its resume in one request)', () => {
  const started = { iat: 1, exp: 3601, kind: 'Interaction', returnTo: 'https://id.example/auth/u1' } as AdapterPayload;
  const finished = { ...started, result: { login: { accountId: 'alice' } } } as AdapterPayload;

  it('holds the step’s save for the resume: its read gets it, its destroy is the one store call', async () => {
    const store = recordingStore();
    const handOff = createInteractionHandOff();
    const adapter = handOff.wrap(store.adapter);
    await adapter.upsert('u1', started, 3600);
    store.calls.length = 0;
    await handOff.run('u1', async () => {
      await adapter.upsert('u1', finished, 3599);
      const read = await adapter.find('u1');
      expect(read).to.deep.equal(finished);
      // A copy, as from a store: changing it changes nothing held.
      (read as { result?: unknown }).result = 'changed';
      expect(await adapter.find('u1')).to.deep.equal(finished);
      await adapter.destroy('u1');
      expect(await adapter.find('u1')).to.equal(undefined);
    });
    expect(store.calls).to.deep.equal(['destroy u1', 'find u1']);
    expect(store.records.has('u1')).to.equal(false);
  });

  it('writes what is still held when the run ends, before the run resolves (the store ends as without the scope)', async () => {
    const store = recordingStore();
    const handOff = createInteractionHandOff();
    const adapter = handOff.wrap(store.adapter);
    await handOff.run('u1', async () => {
      await adapter.upsert('u1', finished, 3599);
      expect(store.calls).to.deep.equal([]);
    });
    expect(store.calls).to.deep.equal(['upsert u1']);
    expect(store.records.get('u1')).to.deep.equal({ payload: finished, expiresIn: 3599 });
  });

  it('writes the held save when the run fails too', async () => {
    const store = recordingStore();
    const handOff = createInteractionHandOff();
    const adapter = handOff.wrap(store.adapter);
    const failure = await handOff
      .run('u1', async () => {
        await adapter.upsert('u1', finished, 3599);
        throw new Error('the resume failed');
      })
      .catch((error: unknown) => error);
    expect((failure as Error).message).to.equal('the resume failed');
    expect(store.records.get('u1')?.payload).to.deep.equal(finished);
  });

  it('holds one save only: a later save of the same interaction writes through at once', async () => {
    const store = recordingStore();
    const handOff = createInteractionHandOff();
    const adapter = handOff.wrap(store.adapter);
    const again = { ...finished, session: {} } as AdapterPayload;
    await handOff.run('u1', async () => {
      await adapter.upsert('u1', finished, 3599);
      await adapter.upsert('u1', again, 3598);
      expect(store.calls).to.deep.equal(['upsert u1']);
      expect(store.records.get('u1')?.payload).to.deep.equal(again);
      await adapter.upsert('u1', finished, 3597);
      expect(store.calls).to.deep.equal(['upsert u1', 'upsert u1']);
      expect(await adapter.find('u1')).to.deep.equal(finished);
    });
    // Nothing held is left to write.
    expect(store.calls).to.deep.equal(['upsert u1', 'upsert u1', 'find u1']);
  });

  it('never holds another interaction (the next step’s, which the browser is sent to before the run ends)', async () => {
    const store = recordingStore();
    const handOff = createInteractionHandOff();
    const adapter = handOff.wrap(store.adapter);
    await handOff.run('u1', async () => {
      await adapter.upsert('u2', started, 3600);
      expect(store.calls).to.deep.equal(['upsert u2']);
      expect(await adapter.find('u2')).to.deep.equal(started);
    });
  });

  it('outside a run, and after it for work the run left behind, every call goes to the store', async () => {
    const store = recordingStore();
    const handOff = createInteractionHandOff();
    const adapter = handOff.wrap(store.adapter);
    await adapter.upsert('u1', started, 3600);
    let later: Promise<void> | undefined;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await handOff.run('u1', async () => {
      // Started inside the run, carried on after it ended (the async context goes with it).
      later = gate.then(() => adapter.upsert('u1', finished, 3599));
    });
    expect(store.calls).to.deep.equal(['upsert u1']);
    release();
    await later;
    expect(store.calls).to.deep.equal(['upsert u1', 'upsert u1']);
    expect(store.records.get('u1')?.payload).to.deep.equal(finished);
  });

  describe('with the destroy deferred (interactions in Redis): it rides on the next write', () => {
    /** A write to the same store of another model (the code's save), recorded in the same list. */
    const codeSave = (store: ReturnType<typeof recordingStore>) => async () => {
      store.calls.push('upsert code');
      return 'saved';
    };

    it('sends the destroy with the next write, in the same tick, and reads the interaction as gone meanwhile', async () => {
      const store = recordingStore();
      const handOff = createInteractionHandOff({ deferDestroy: true });
      const adapter = handOff.wrap(store.adapter);
      await adapter.upsert('u1', started, 3600);
      store.calls.length = 0;
      await handOff.run('u1', async () => {
        await adapter.upsert('u1', finished, 3599);
        expect(await adapter.find('u1')).to.deep.equal(finished);
        await adapter.destroy('u1');
        expect(store.calls, 'nothing sent yet').to.deep.equal([]);
        expect(await adapter.find('u1'), 'destroyed in the scope').to.equal(undefined);
        expect(store.calls, 'without a store read').to.deep.equal([]);
        const written = handOff.alongside(codeSave(store));
        // Both sent before anything was awaited: ioredis's auto-pipelining puts them in one write.
        expect(store.calls).to.deep.equal(['destroy u1', 'upsert code']);
        expect(await written).to.equal('saved');
        expect(store.records.has('u1')).to.equal(false);
        // Sent once.
        await handOff.alongside(codeSave(store));
      });
      expect(store.calls).to.deep.equal(['destroy u1', 'upsert code', 'upsert code']);
    });

    it('sends a destroy no write carried when the run ends, before the run resolves', async () => {
      const store = recordingStore();
      const handOff = createInteractionHandOff({ deferDestroy: true });
      const adapter = handOff.wrap(store.adapter);
      await adapter.upsert('u1', started, 3600);
      await handOff.run('u1', async () => {
        await adapter.upsert('u1', finished, 3599);
        await adapter.destroy('u1');
      });
      expect(store.records.has('u1')).to.equal(false);
      expect(store.calls).to.deep.equal(['upsert u1', 'destroy u1']);
    });

    it('sends it when the run fails too, and the run keeps its own error', async () => {
      const store = recordingStore();
      store.adapter.destroy = async (id) => {
        store.calls.push(`destroy ${id}`);
        throw new Error('Redis is down');
      };
      const handOff = createInteractionHandOff({ deferDestroy: true });
      const adapter = handOff.wrap(store.adapter);
      const failure = await handOff
        .run('u1', async () => {
          await adapter.destroy('u1');
          throw new Error('the resume failed');
        })
        .catch((error: unknown) => error);
      expect((failure as Error).message).to.equal('the resume failed');
      expect(store.calls).to.deep.equal(['destroy u1']);
      // A run that succeeded fails with the destroy's error: the browser gets no answer that relies on it.
      const second = await handOff.run('u2', () => adapter.destroy('u2')).catch((error: unknown) => error);
      expect((second as Error).message).to.equal('Redis is down');
    });

    it('a write that carries a failed destroy fails', async () => {
      const store = recordingStore();
      store.adapter.destroy = async () => {
        throw new Error('Redis is down');
      };
      const handOff = createInteractionHandOff({ deferDestroy: true });
      const adapter = handOff.wrap(store.adapter);
      const failure = await handOff
        .run('u1', async () => {
          await adapter.destroy('u1');
          await handOff.alongside(codeSave(store));
        })
        .catch((error: unknown) => error);
      expect((failure as Error).message).to.equal('Redis is down');
    });

    it('a save of the interaction after its destroy sends the destroy first', async () => {
      const store = recordingStore();
      const handOff = createInteractionHandOff({ deferDestroy: true });
      const adapter = handOff.wrap(store.adapter);
      await handOff.run('u1', async () => {
        await adapter.upsert('u1', finished, 3599);
        await adapter.destroy('u1');
        await adapter.upsert('u1', started, 3500);
      });
      expect(store.calls).to.deep.equal(['destroy u1', 'upsert u1']);
      expect(store.records.get('u1')?.payload).to.deep.equal(started);
    });

    it('outside a run, a destroy goes to the store at once and a write carries nothing', async () => {
      const store = recordingStore();
      const handOff = createInteractionHandOff({ deferDestroy: true });
      const adapter = handOff.wrap(store.adapter);
      await adapter.destroy('u1');
      expect(await handOff.alongside(codeSave(store))).to.equal('saved');
      expect(store.calls).to.deep.equal(['destroy u1', 'upsert code']);
    });
  });
});
