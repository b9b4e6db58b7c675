import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { dropsIn, udpKernelDrops } from '../../src/sources/kernel-drops.js';

// Two sockets on port 9060 (0x2364: IPv4 and IPv6) with drops, one on 5514 (0x158A).
const TABLE = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  101: 0100007F:2364 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1234 2 0000000000000000 1500
  102: 0100007F:158A 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1235 2 0000000000000000 7
  103: 00000000000000000000000001000000:2364 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1236 2 0000000000000000 25
garbage line
`;

test('the drops column is summed for the listener ports only', () => {
  assert.equal(dropsIn(TABLE, new Set(['2364'])), 1525);
  assert.equal(dropsIn(TABLE, new Set(['158A'])), 7);
  assert.equal(dropsIn(TABLE, new Set(['0035'])), 0);
  assert.equal(dropsIn('', new Set(['2364'])), 0);
});

test(
  'a bound socket is found in the kernel table with no drops yet',
  { skip: !existsSync('/proc/net/udp') },
  async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    try {
      assert.equal(udpKernelDrops([s.address().port]), 0);
      assert.equal(udpKernelDrops([]), 0);
    } finally {
      s.close();
    }
  },
);
