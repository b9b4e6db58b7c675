/**
 * A paced HEP sender fast enough for 200,000 packets per second on one core: Node's dgram costs a
 * JS→C++ call and a syscall per datagram and tops out near 70,000 per second here, so the packets
 * are generated beforehand by Node (`writePacketFile`) and sent by a small C program with
 * sendmmsg(2), compiled with the system's cc into bench/out/. Each 1 ms tick it sends the packets
 * due by then (at most 20 ms' worth), writing the current wall time into each packet's HEP
 * time chunks just before sending, so the capture time the sensor sees is the send time.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeHep3 } from './hep-encode.js';
import { SipTraffic, type TrafficKind, type TrafficOptions } from './sip-traffic.js';

/** Kind codes in the packet file, in this order. */
export const KINDS: readonly TrafficKind[] = ['options', 'register', 'attack', 'brute', 'flood'];

/** Byte offsets of the HEP3 time-seconds and time-microseconds values written by encodeHep3. */
const SEC_AT = 62;
const USEC_AT = 72;

const C_SOURCE = String.raw`
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#define BATCH 64
static double mono(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e3+t.tv_nsec/1e6;}
int main(int argc,char**argv){
  if(argc<6){fprintf(stderr,"usage: file port rate count maxSeconds\n");return 2;}
  FILE*f=fopen(argv[1],"rb"); if(!f){perror("open");return 2;}
  fseek(f,0,SEEK_END); long size=ftell(f); fseek(f,0,SEEK_SET);
  unsigned char*data=malloc(size); if(fread(data,1,size,f)!=(size_t)size){perror("read");return 2;} fclose(f);
  long n=0; for(long p=0;p<size;){unsigned len=(data[p+1]<<8)|data[p+2]; p+=3+len; n++;}
  long*off=malloc(sizeof(long)*n); n=0; for(long p=0;p<size;){off[n++]=p; unsigned len=(data[p+1]<<8)|data[p+2]; p+=3+len;}
  int port=atoi(argv[2]); double rate=atof(argv[3]); long count=atol(argv[4]); double maxMs=atof(argv[5])*1000;
  if(count>n) count=n;
  int s=socket(AF_INET,SOCK_DGRAM,0); int sb=4<<20; setsockopt(s,SOL_SOCKET,SO_SNDBUF,&sb,sizeof sb);
  struct sockaddr_in a; memset(&a,0,sizeof a); a.sin_family=AF_INET; a.sin_port=htons(port); a.sin_addr.s_addr=htonl(0x7f000001);
  if(connect(s,(struct sockaddr*)&a,sizeof a)){perror("connect");return 2;}
  struct mmsghdr msgs[BATCH]; struct iovec iov[BATCH];
  long sent=0, kinds[8]={0}, late=0, errors=0; long maxBatch=(long)(rate/50); if(maxBatch<1)maxBatch=1;
  double t0=mono();
  for(;;){
    double now=mono();
    long due=(long)((now-t0)*rate/1000); if(due>count)due=count;
    if(due-sent>rate/100) late++;
    long until=due; if(until>sent+maxBatch) until=sent+maxBatch;
    while(sent<until){
      int k=0; struct timespec w; clock_gettime(CLOCK_REALTIME,&w);
      uint32_t sec=htonl((uint32_t)w.tv_sec), usec=htonl((uint32_t)(w.tv_nsec/1000));
      while(k<BATCH && sent+k<until){
        unsigned char*p=data+off[sent+k]; unsigned len=(p[1]<<8)|p[2];
        memcpy(p+3+${SEC_AT},&sec,4); memcpy(p+3+${USEC_AT},&usec,4);
        iov[k].iov_base=p+3; iov[k].iov_len=len; memset(&msgs[k].msg_hdr,0,sizeof msgs[k].msg_hdr);
        msgs[k].msg_hdr.msg_iov=&iov[k]; msgs[k].msg_hdr.msg_iovlen=1; k++;
      }
      int r=sendmmsg(s,msgs,k,0);
      if(r<=0){errors++; r=k;}
      for(int i=0;i<r;i++) kinds[data[off[sent+i]]&7]++;
      sent+=r;
    }
    if(sent>=count || now-t0>=maxMs) break;
    double next=t0+(double)((long)(now-t0)+1); double wait=next-mono();
    if(wait>0){struct timespec ts={0,(long)(wait*1e6)}; nanosleep(&ts,NULL);}
  }
  double secs=(mono()-t0)/1000;
  printf("{\"sent\":%ld,\"seconds\":%.4f,\"achievedRate\":%.1f,\"lateTicks\":%ld,\"sendErrors\":%ld,\"kinds\":[%ld,%ld,%ld,%ld,%ld]}\n",
    sent,secs,sent/secs,late,errors,kinds[0],kinds[1],kinds[2],kinds[3],kinds[4]);
  return 0;
}
`;

/** Compiles the C sender into `dir` (once per source change); returns its path or undefined without cc. */
export function buildBlaster(dir: string): string | undefined {
  mkdirSync(dir, { recursive: true });
  const src = join(dir, 'hep-blast.c');
  const bin = join(dir, 'hep-blast');
  if (existsSync(bin) && existsSync(src) && readFileSync(src, 'utf8') === C_SOURCE) return bin;
  writeFileSync(src, C_SOURCE);
  try {
    execFileSync('cc', ['-O2', '-o', bin, src], { stdio: 'pipe' });
  } catch {
    return undefined;
  }
  return bin;
}

/** Writes `count` packets of `traffic` as [kind u8][length u16 BE][HEP3 packet]; returns per-kind counts. */
export function writePacketFile(
  path: string,
  opts: TrafficOptions,
  count: number,
): Partial<Record<TrafficKind, number>> {
  const t = new SipTraffic(opts);
  const fd = openSync(path, 'w');
  const chunk: Buffer[] = [];
  let bytes = 0;
  const byKind: Partial<Record<TrafficKind, number>> = {};
  for (let i = 0; i < count; i++) {
    const p = t.next();
    const hep = encodeHep3(
      { srcIp: p.srcIp, dstIp: p.dstIp, srcPort: p.srcPort, dstPort: p.dstPort, timeMs: 0, captureId: 2001 },
      p.payload,
    );
    const head = Buffer.allocUnsafe(3);
    head[0] = KINDS.indexOf(p.kind);
    head.writeUInt16BE(hep.length, 1);
    chunk.push(head, hep);
    bytes += 3 + hep.length;
    byKind[p.kind] = (byKind[p.kind] ?? 0) + 1;
    if (bytes > 8 << 20) {
      writeSync(fd, Buffer.concat(chunk));
      chunk.length = 0;
      bytes = 0;
    }
  }
  if (chunk.length > 0) writeSync(fd, Buffer.concat(chunk));
  closeSync(fd);
  return byKind;
}

/** The C sender's summary line. */
export interface BlastResult {
  sent: number;
  seconds: number;
  achievedRate: number;
  lateTicks: number;
  sendErrors: number;
  byKind: Partial<Record<TrafficKind, number>>;
}

/** Parses the C sender's output. */
export function parseBlast(line: string): BlastResult {
  const r = JSON.parse(line) as Omit<BlastResult, 'byKind'> & { kinds: number[] };
  const byKind: Partial<Record<TrafficKind, number>> = {};
  KINDS.forEach((k, i) => {
    const n = r.kinds[i] ?? 0;
    if (n > 0) byKind[k] = n;
  });
  return {
    sent: r.sent,
    seconds: r.seconds,
    achievedRate: r.achievedRate,
    lateTicks: r.lateTicks,
    sendErrors: r.sendErrors,
    byKind,
  };
}
