import { expect } from 'chai';
import { Redis } from 'ioredis';
import { parseMonitorLine } from '../../bench/lib/redis-monitor.ts';
import { openStores, watchRedisSent, type Stores } from '../../bench/lib/storage.ts';
import { serviceUrls } from '../helpers/stores.ts';

describe('bench: Redis commands as sent, through MONITOR (bench/lib/storage.ts watchRedisSent)', () => {
  let stores: Stores;
  let client: Redis;
  let busy: Redis;
  before(async () => {
    const { mongodbUri, redisUrl } = serviceUrls();
    stores = await openStores(mongodbUri, redisUrl);
    client = new Redis(redisUrl);
    busy = new Redis(redisUrl);
  });
  after(async () => {
    await stores.close();
    client.disconnect();
    busy.disconnect();
  });

  it('counts every command sent before stop() while another client keeps Redis busy from the start', async () => {
    // The other client's commands reach MONITOR in the same read as its +OK: the state that made
    // ioredis's monitor() end a bench run ("Command queue state error").
    let keepBusy = true;
    const busyLoop = (async () => {
      while (keepBusy) await Promise.all(Array.from({ length: 20 }, () => busy.incr('bench-monitor-test:busy')));
    })();
    try {
      for (let round = 0; round < 10; round += 1) {
        const watch = await watchRedisSent(stores);
        await Promise.all(Array.from({ length: 25 }, (_, index) => client.set(`bench-monitor-test:${index}`, 'x')));
        await client.eval("redis.call('SET', KEYS[1], 'y') return 1", 1, 'bench-monitor-test:script');
        const counts = await watch.stop();
        expect(counts['redis.sent.set'], `round ${round}`).to.equal(25);
        // A script is one command sent; what it runs inside is not.
        expect(counts['redis.sent.eval'], `round ${round}`).to.equal(1);
        expect(counts['redis.sent.incr'], `round ${round}`).to.be.above(0);
        expect(counts).to.not.have.property('redis.sent.echo');
      }
    } finally {
      keepBusy = false;
      await busyLoop;
    }
  });

  it('reads a MONITOR line: command, first argument, source (a script\'s commands come from "lua")', () => {
    expect(parseMonitorLine('+1796071111.479091 [0 127.0.0.1:50312] "SET" "a \\"quoted\\" key" "v"')).to.deep.equal({ name: 'set', firstArgument: 'a \\"quoted\\" key', source: '127.0.0.1:50312' });
    expect(parseMonitorLine('+1796071111.479091 [0 lua] "set" "k"')).to.deep.equal({ name: 'set', firstArgument: 'k', source: 'lua' });
    expect(parseMonitorLine('+1796071111.479091 [0 unix:/tmp/r.sock] "ping"')).to.deep.equal({ name: 'ping', firstArgument: undefined, source: 'unix:/tmp/r.sock' });
    expect(parseMonitorLine('+OK')).to.equal(undefined);
  });
});
