import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeEthernet,
  decodeLinkHeader,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  isKnownLinkType,
  LinkCursor,
  NET_OTHER,
  NET_RAW_IP,
} from '../../src/decode/link.js';
import {
  ETH,
  ethernet,
  linuxSll,
  linuxSll2,
  loop,
  mpls,
  nullLoopback,
  pppoe,
} from '../helpers/pcap-writer.js';

const IP = Buffer.from([0x45, 0, 0, 20]);

function link(linkType: number, frame: Buffer, maxTags = 8): { err: string | null; c: LinkCursor } {
  const c = new LinkCursor();
  const err = decodeLinkHeader(linkType, frame, frame.length, c, maxTags);
  return { err, c };
}

describe('link headers', () => {
  it('Ethernet II', () => {
    const { err, c } = link(1, ethernet(ETH.IPV4, IP));
    assert.equal(err, null);
    assert.deepEqual([c.offset, c.etherType, c.tags], [14, ETHERTYPE_IPV4, 0]);
  });

  it('802.1Q, 802.1ad QinQ and the old 0x9100 tag, any depth up to the bound', () => {
    const one = link(1, ethernet(ETH.IPV6, IP, [{ tpid: ETH.VLAN, id: 10 }]));
    assert.deepEqual([one.err, one.c.offset, one.c.etherType, one.c.tags], [null, 18, ETHERTYPE_IPV6, 1]);
    const qinq = link(
      1,
      ethernet(ETH.IPV4, IP, [
        { tpid: ETH.QINQ, id: 100 },
        { tpid: ETH.VLAN, id: 10 },
      ]),
    );
    assert.deepEqual([qinq.err, qinq.c.offset, qinq.c.etherType, qinq.c.tags], [null, 22, ETHERTYPE_IPV4, 2]);
    const old = link(
      1,
      ethernet(ETH.IPV4, IP, [
        { tpid: ETH.QINQ_OLD, id: 1 },
        { tpid: ETH.VLAN, id: 2 },
        { tpid: ETH.VLAN, id: 3 },
      ]),
    );
    assert.deepEqual([old.err, old.c.offset, old.c.tags], [null, 26, 3]);
    const tags = Array.from({ length: 9 }, (_, i) => ({ tpid: ETH.VLAN, id: i }));
    assert.equal(link(1, ethernet(ETH.IPV4, IP, tags)).err, 'link_too_many_tags');
    assert.equal(link(1, ethernet(ETH.IPV4, IP, tags.slice(0, 8))).err, null);
  });

  it('MPLS label stacks and PPPoE sessions', () => {
    const m = link(1, ethernet(ETH.MPLS, mpls([16, 17, 18], IP)));
    assert.deepEqual([m.err, m.c.offset, m.c.etherType, m.c.tags], [null, 26, NET_RAW_IP, 3]);
    const p = link(1, ethernet(ETH.PPPOE, pppoe(0x0057, IP)));
    assert.deepEqual([p.err, p.c.offset, p.c.etherType], [null, 22, ETHERTYPE_IPV6]);
    assert.equal(link(1, ethernet(ETH.PPPOE, pppoe(0xc021, IP))).c.etherType, NET_OTHER);
  });

  it('802.3 length frames and ARP are not IP', () => {
    assert.equal(link(1, ethernet(100, IP)).c.etherType, NET_OTHER);
    assert.equal(link(1, ethernet(ETH.ARP, IP)).c.etherType, ETH.ARP);
  });

  it('Linux SLL and SLL2 (with a VLAN tag left in)', () => {
    const s = link(113, linuxSll(ETH.IPV4, IP));
    assert.deepEqual([s.err, s.c.offset, s.c.etherType], [null, 16, ETHERTYPE_IPV4]);
    const v = link(113, linuxSll(ETH.VLAN, Buffer.concat([Buffer.from([0, 5, 0x86, 0xdd]), IP])));
    assert.deepEqual([v.err, v.c.offset, v.c.etherType], [null, 20, ETHERTYPE_IPV6]);
    const s2 = link(276, linuxSll2(ETH.IPV6, IP));
    assert.deepEqual([s2.err, s2.c.offset, s2.c.etherType], [null, 20, ETHERTYPE_IPV6]);
  });

  it('raw IP (101, 12, 14) and the IPv4/IPv6-only link types (228, 229)', () => {
    for (const lt of [101, 12, 14])
      assert.deepEqual([link(lt, IP).c.offset, link(lt, IP).c.etherType], [0, NET_RAW_IP]);
    assert.equal(link(228, IP).c.etherType, ETHERTYPE_IPV4);
    assert.equal(link(229, IP).c.etherType, ETHERTYPE_IPV6);
  });

  it('BSD loopback in either host byte order, with every AF_INET6 value, and LOOP in network order', () => {
    assert.deepEqual(
      [link(0, nullLoopback(2, IP)).c.offset, link(0, nullLoopback(2, IP)).c.etherType],
      [4, ETHERTYPE_IPV4],
    );
    assert.equal(link(0, nullLoopback(2, IP, true)).c.etherType, ETHERTYPE_IPV4);
    for (const af of [24, 28, 30, 10]) {
      assert.equal(link(0, nullLoopback(af, IP)).c.etherType, ETHERTYPE_IPV6, `AF ${af} little-endian`);
      assert.equal(link(0, nullLoopback(af, IP, true)).c.etherType, ETHERTYPE_IPV6, `AF ${af} big-endian`);
    }
    assert.equal(link(0, nullLoopback(7, IP)).c.etherType, NET_OTHER);
    assert.equal(link(108, loop(2, IP)).c.etherType, ETHERTYPE_IPV4);
    assert.equal(link(108, loop(24, IP)).c.etherType, ETHERTYPE_IPV6);
  });

  it('truncated headers and unknown link types are anomalies, not exceptions', () => {
    assert.equal(link(1, Buffer.alloc(13)).err, 'link_truncated');
    assert.equal(link(1, ethernet(ETH.VLAN, Buffer.alloc(2))).err, 'link_truncated');
    assert.equal(link(113, Buffer.alloc(15)).err, 'link_truncated');
    assert.equal(link(276, Buffer.alloc(19)).err, 'link_truncated');
    assert.equal(link(0, Buffer.alloc(3)).err, 'link_truncated');
    assert.equal(link(108, Buffer.alloc(2)).err, 'link_truncated');
    assert.equal(link(1, ethernet(ETH.MPLS, Buffer.from([0, 0, 0]))).err, 'link_truncated');
    assert.equal(link(1, ethernet(ETH.PPPOE, Buffer.alloc(5))).err, 'link_truncated');
    assert.equal(link(147, IP).err, 'link_unknown_type');
    assert.equal(isKnownLinkType(147), false);
    assert.equal(isKnownLinkType(276), true);
  });

  it('an inner Ethernet frame is read within its end, not the buffer end', () => {
    const inner = ethernet(ETH.IPV4, IP);
    const buf = Buffer.concat([Buffer.alloc(10), inner, Buffer.alloc(50)]);
    const c = new LinkCursor();
    assert.equal(decodeEthernet(buf, 10, 10 + 13, c, 8), 'link_truncated');
    assert.equal(decodeEthernet(buf, 10, 10 + inner.length, c, 8), null);
    assert.equal(c.offset, 24);
  });

  it('random bytes of every link type never throw and keep the offset inside the frame (fuzz)', () => {
    let seed = 42;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 4294967296;
    };
    const c = new LinkCursor();
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.alloc(Math.floor(rnd() * 60));
      for (let j = 0; j < b.length; j++)
        b[j] = rnd() < 0.3 ? ([0x81, 0x00, 0x88, 0x47, 0x64][j % 5] ?? 0) : Math.floor(rnd() * 256);
      for (const lt of [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 999]) {
        const err = decodeLinkHeader(lt, b, b.length, c, 8);
        if (err === null) assert.ok(c.offset <= b.length, `link ${lt} offset ${c.offset} > ${b.length}`);
        else assert.match(err, /^link_/);
      }
    }
  });
});
