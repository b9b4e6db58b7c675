/**
 * Live capture from a network interface: runs `dumpcap` or `tcpdump` writing a pcap stream to
 * stdout and feeds it to the push CaptureParser; every captured frame goes to the consumer as the
 * raw record (link type, time, bytes), which the lead's Pipeline decodes exactly as it decodes a
 * capture file (`pipeline.frame(f.linkType, f.data, f.time, provenance)`). Emitting raw frames keeps
 * this source free of decoding and keeps live and offline analysis one code path.
 *
 * Privileges: sipwarden itself should not run as root. Capturing needs CAP_NET_RAW and
 * CAP_NET_ADMIN: Debian's wireshark-common installs dumpcap with them for members of the
 * `wireshark` group (`dpkg-reconfigure wireshark-common`, `usermod -aG wireshark sipwarden`);
 * elsewhere `setcap cap_net_raw,cap_net_admin+eip /usr/bin/dumpcap`. That is why dumpcap is
 * preferred when present; tcpdump needs root (it then drops to its own user after opening).
 *
 * The BPF filter keeps the SIP and HEP ports and every IP fragment (a fragmented SIP message has
 * no UDP header in its later fragments): `udp port P or tcp port P ... or (ip[6:2] & 0x1fff != 0)
 * or (ip6 and ip6[6] == 44)`.
 *
 * The tool's death (exit code, bounded stderr) marks the source down; it is restarted after a
 * delay that doubles per failure (LIVE_CAPTURE_RESTART_MIN_MS..MAX_MS) and resets after a healthy run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import {
  LIVE_CAPTURE_HEALTHY_RUN_MS,
  LIVE_CAPTURE_MAX_PORTS,
  LIVE_CAPTURE_RESTART_MAX_MS,
  LIVE_CAPTURE_RESTART_MIN_MS,
  LIVE_CAPTURE_START_TIMEOUT_MS,
  LIVE_CAPTURE_STDERR_MAX_CHARS,
} from '../config/limits.js';
import { CaptureParser, type CaptureFrame } from './capture-parser.js';
import {
  boundTail,
  describeError,
  emptyStats,
  wallClock,
  type Clock,
  type LiveSource,
  type SourceStats,
} from './live-source.js';

/** Capture programs sipwarden can drive. */
export type CaptureTool = 'dumpcap' | 'tcpdump';

/** Settings of an interface capture. */
export interface InterfaceCaptureOptions {
  /** Interface name (`eth0`, `lo`, `any`). */
  readonly interface: string;
  /** A complete BPF filter replacing the one built from the ports. */
  readonly filter?: string;
  /** SIP ports to capture (default 5060, 5061, 5080, 5090: 3CX uses 5090 for its tunnel). */
  readonly sipPorts?: readonly number[];
  /** HEP ports to capture (default 9060). */
  readonly hepPorts?: readonly number[];
  /** Which program; `auto` (default): dumpcap when installed, else tcpdump. */
  readonly tool?: CaptureTool | 'auto';
  /** Path of the program (default: found on PATH); tests point it at stand-ins. */
  readonly toolPath?: string;
  readonly restartMinMs?: number;
  readonly restartMaxMs?: number;
  readonly healthyRunMs?: number;
  readonly startTimeoutMs?: number;
  readonly name?: string;
  readonly now?: Clock;
}

/**
 * Receives each captured frame. `frame` is reused and its `data` may be a view into a pipe chunk:
 * both are valid only during the call. `seq` numbers frames 1, 2, ... across tool restarts (use it
 * as the provenance frame number; `frame.frame` restarts at 1 with each run of the tool).
 */
export type InterfaceFrameHandler = (frame: CaptureFrame, seq: number) => void;

/** Interface capture counters beyond the common ones. */
export interface InterfaceCaptureStats extends SourceStats {
  tool: CaptureTool | undefined;
  /** Times the tool was started again after it died. */
  restarts: number;
  /** Process id of the running tool. */
  pid: number | undefined;
  /** How the tool last ended (exit code or signal, and its last stderr), kept after a restart. */
  lastExit?: string;
}

const DEFAULT_SIP_PORTS = [5060, 5061, 5080, 5090];
const DEFAULT_HEP_PORTS = [9060];
const STARTED_TEXT = /listening on|Capturing on/;

/** The BPF filter for these ports, keeping IPv4 and IPv6 fragments. Throws on bad ports. */
export function buildCaptureFilter(sipPorts: readonly number[], hepPorts: readonly number[]): string {
  const ports = [...new Set([...sipPorts, ...hepPorts])];
  if (ports.length === 0) throw new Error('interface capture: no ports to capture');
  if (ports.length > LIVE_CAPTURE_MAX_PORTS)
    throw new Error(`interface capture: ${ports.length} ports, at most ${LIVE_CAPTURE_MAX_PORTS}`);
  for (const p of ports)
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`interface capture: bad port ${p}`);
  const terms = ports.map((p) => `udp port ${p} or tcp port ${p}`).join(' or ');
  return `${terms} or (ip[6:2] & 0x1fff != 0) or (ip6 and ip6[6] == 44)`;
}

/** Command-line arguments that make `tool` write a pcap stream of `iface` to stdout. */
export function captureArgs(tool: CaptureTool, iface: string, filter: string): string[] {
  if (tool === 'dumpcap') return ['-q', '-i', iface, '-f', filter, '-P', '-w', '-'];
  // -U: flush per packet; --immediate-mode: no kernel batching delay; -s 0: whole packets.
  return ['-U', '--immediate-mode', '-n', '-s', '0', '-i', iface, '-w', '-', filter];
}

/** Finds an executable on PATH (or /usr/sbin, /sbin, where Debian puts tcpdump). */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin'];
  for (const d of dirs) {
    if (d === '') continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Live capture through dumpcap/tcpdump; see the module comment. */
export class InterfaceCapture implements LiveSource {
  readonly name: string;
  readonly kind = 'capture' as const;
  /** Label for provenance `file` (`iface:eth0`). */
  readonly label: string;
  private readonly iface: string;
  private readonly filter: string;
  private readonly toolChoice: CaptureTool | 'auto';
  private readonly toolPath: string | undefined;
  private readonly restartMin: number;
  private readonly restartMax: number;
  private readonly healthyRun: number;
  private readonly startTimeout: number;
  private readonly now: Clock;
  private readonly st: InterfaceCaptureStats = {
    ...emptyStats(),
    tool: undefined,
    restarts: 0,
    pid: undefined,
  };
  private child: ChildProcess | undefined;
  private running = false;
  private failures = 0;
  private seq = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private stderr = '';

  /** Validates the settings (throws on a bad interface name or ports: configuration errors). */
  constructor(
    options: InterfaceCaptureOptions,
    private readonly onFrame: InterfaceFrameHandler,
  ) {
    // Spawned without a shell, but a name starting with '-' would still be read as an option.
    if (!/^[A-Za-z0-9_.:@][A-Za-z0-9_.:@-]{0,63}$/.test(options.interface))
      throw new Error(`interface capture: bad interface name '${options.interface}'`);
    this.iface = options.interface;
    this.filter =
      options.filter ??
      buildCaptureFilter(options.sipPorts ?? DEFAULT_SIP_PORTS, options.hepPorts ?? DEFAULT_HEP_PORTS);
    this.toolChoice = options.tool ?? 'auto';
    this.toolPath = options.toolPath;
    this.restartMin = options.restartMinMs ?? LIVE_CAPTURE_RESTART_MIN_MS;
    this.restartMax = options.restartMaxMs ?? LIVE_CAPTURE_RESTART_MAX_MS;
    this.healthyRun = options.healthyRunMs ?? LIVE_CAPTURE_HEALTHY_RUN_MS;
    this.startTimeout = options.startTimeoutMs ?? LIVE_CAPTURE_START_TIMEOUT_MS;
    this.now = options.now ?? wallClock;
    this.label = `iface:${options.interface}`;
    this.name = options.name ?? `capture ${options.interface}`;
  }

  /** The BPF filter in use. */
  get bpf(): string {
    return this.filter;
  }

  /**
   * Starts the tool and resolves once it captures; rejects naming the interface when the tool is
   * missing, or dies first (no such device, permission denied: its stderr is in the message).
   */
  async start(): Promise<void> {
    if (this.running) return;
    const tool = this.pickTool();
    if (tool === undefined)
      throw new Error(`interface capture on ${this.iface}: neither dumpcap nor tcpdump is installed`);
    this.st.tool = tool.tool;
    this.running = true;
    try {
      await this.spawnTool(tool.tool, tool.path, true);
    } catch (err) {
      this.running = false;
      throw err;
    }
  }

  /** Stops the tool (SIGTERM) and any pending restart; resolves once it has exited. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const c = this.child;
    if (c !== undefined && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(t);
    }
    this.st.up = false;
  }

  /** A snapshot of the counters. */
  stats(): InterfaceCaptureStats {
    return { ...this.st };
  }

  private pickTool(): { tool: CaptureTool; path: string } | undefined {
    const choice = this.toolChoice;
    if (this.toolPath !== undefined)
      return { tool: choice === 'auto' ? 'tcpdump' : choice, path: this.toolPath };
    for (const t of choice === 'auto' ? (['dumpcap', 'tcpdump'] as const) : [choice]) {
      const p = findExecutable(t);
      if (p !== undefined) return { tool: t, path: p };
    }
    return undefined;
  }

  private spawnTool(tool: CaptureTool, path: string, first: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const startedAt = this.now();
      this.stderr = '';
      const st = this.st;
      const settle = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err === undefined) {
          st.up = true;
          delete st.error;
          resolve();
        } else reject(err);
      };
      // A restarted run that dies is not a start failure: stop waiting, without marking it up.
      const abandon = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve();
      };
      let streamError: string | undefined;
      const parser = new CaptureParser((f) => {
        st.received++;
        st.accepted++;
        st.lastReceivedAt = this.now();
        this.onFrame(f, ++this.seq);
      });
      let child: ChildProcess;
      try {
        child = spawn(path, captureArgs(tool, this.iface, this.filter), {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      } catch (err) {
        reject(new Error(`interface capture on ${this.iface}: cannot run ${path}: ${describeError(err)}`));
        return;
      }
      this.child = child;
      st.pid = child.pid;
      const timer = setTimeout(() => {
        if (first) {
          child.kill('SIGTERM');
          settle(
            new Error(
              `interface capture on ${this.iface}: ${tool} did not start capturing within ${this.startTimeout} ms: ${this.stderr.trim()}`,
            ),
          );
        } else if (child.exitCode === null && child.signalCode === null) settle();
      }, this.startTimeout);
      child.stdout?.on('data', (chunk: Buffer) => {
        st.bytes += chunk.length;
        if (!parser.push(chunk)) {
          // A corrupt stream cannot be resynchronised: restart the tool.
          st.malformed++;
          streamError = `${tool} stream unreadable: ${parser.error?.message ?? 'parse error'}`;
          child.kill('SIGTERM');
          return;
        }
        if (parser.format !== undefined) settle();
      });
      child.stderr?.on('data', (chunk: Buffer) => {
        this.stderr = boundTail(this.stderr + chunk.toString('utf8'), LIVE_CAPTURE_STDERR_MAX_CHARS);
        if (STARTED_TEXT.test(this.stderr)) settle();
      });
      child.on('error', (err) => {
        const msg = `interface capture on ${this.iface}: cannot run ${path}: ${describeError(err)}`;
        st.up = false;
        st.error = msg;
        st.pid = undefined;
        if (!settled && first) {
          settle(new Error(msg));
          return;
        }
        abandon();
        this.scheduleRestart(tool, path, startedAt);
      });
      child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
        st.up = false;
        st.pid = undefined;
        const how = code !== null ? `exited with code ${code}` : `was killed by ${signal ?? 'a signal'}`;
        const text = streamError ?? this.stderr.trim();
        st.error = boundTail(
          `${tool} ${how}${text !== '' ? `: ${text}` : ''}`,
          LIVE_CAPTURE_STDERR_MAX_CHARS,
        );
        st.lastExit = st.error;
        if (!settled && first) {
          settle(new Error(`interface capture on ${this.iface}: ${st.error}`));
          return;
        }
        abandon();
        this.scheduleRestart(tool, path, startedAt);
      });
    });
  }

  private scheduleRestart(tool: CaptureTool, path: string, startedAt: number): void {
    if (!this.running || this.restartTimer !== undefined) return;
    if (this.now() - startedAt >= this.healthyRun) this.failures = 0;
    const delay = Math.min(this.restartMax, this.restartMin * 2 ** Math.min(this.failures, 30));
    this.failures++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (!this.running) return;
      this.st.restarts++;
      void this.spawnTool(tool, path, false);
    }, delay);
  }
}
