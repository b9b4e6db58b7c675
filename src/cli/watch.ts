import { ConfigError, defaultConfig, loadConfig, type Config } from '../config/config.js';
import { ALL_RULES } from '../detect/rules/index.js';
import { StoreError } from '../store/alert-store.js';
import { parseLogSpec, Sensor } from '../watch/sensor.js';
import { parseCommandArgs } from './args.js';
import { EXIT_INPUT, EXIT_OK, UsageError } from './exit-codes.js';

/** What `watch` listens on when neither flags nor the configuration name a source: loopback only. */
export const WATCH_DEFAULT_HEP = ['udp://127.0.0.1:9060', 'tcp://127.0.0.1:9060'];
export const WATCH_DEFAULT_SYSLOG = ['udp://127.0.0.1:5514'];

export const WATCH_HELP = `sipwarden watch [options]   live sensor: HEP, interface capture, PBX logs, syslog

  --hep URL            HEP v2/v3 listener, udp://HOST:PORT or tcp://HOST:PORT (repeatable)
  --interface NAME     capture SIP from an interface with dumpcap/tcpdump (repeatable; needs capture rights)
  --log KIND:PATH      tail a PBX log across rotation; KIND: 3cx, asterisk, freeswitch, kamailio (repeatable)
  --from-start         read --log files from their beginning (default: from their end)
  --syslog URL         syslog receiver (RFC 3164/5424), udp://HOST:PORT or tcp://HOST:PORT (repeatable)
  --db FILE            SQLite store (default ./sipwarden.db)
  --jsonl FILE         also append every alert revision to FILE as JSON lines
  --http ADDR          API and /metrics (default 127.0.0.1:8080; "" turns it off)
  --config FILE        YAML configuration (flags override it)
  --sensor NAME        this sensor's name in alerts
  --quiet              no alerts on standard output
  --duration SECONDS   stop after this long (demos and tests)

With no source given, watch listens on ${WATCH_DEFAULT_HEP.join(', ')} (HEP) and
${WATCH_DEFAULT_SYSLOG.join(', ')} (syslog). It stops cleanly on SIGINT/SIGTERM.
`;

/** `sipwarden watch`: runs the sensor until a signal (or --duration); resolves to the exit code. */
export async function runWatch(args: string[]): Promise<number> {
  const { values } = parseCommandArgs('watch', args, {
    hep: { type: 'string', multiple: true },
    interface: { type: 'string', multiple: true },
    log: { type: 'string', multiple: true },
    'from-start': { type: 'boolean' },
    syslog: { type: 'string', multiple: true },
    db: { type: 'string' },
    jsonl: { type: 'string' },
    http: { type: 'string' },
    config: { type: 'string', short: 'c' },
    sensor: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    duration: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    process.stdout.write(WATCH_HELP);
    return EXIT_OK;
  }
  let config: Config;
  try {
    config =
      typeof values.config === 'string'
        ? await loadConfig(values.config, new Set(ALL_RULES.map((r) => r.meta.id)))
        : defaultConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`sipwarden: ${err.message}\n`);
      return EXIT_INPUT;
    }
    throw err;
  }
  const list = (v: unknown): string[] => (Array.isArray(v) ? (v as string[]) : []);
  const hep = list(values.hep);
  const interfaces = list(values.interface);
  const logs = list(values.log);
  const syslog = list(values.syslog);
  const fromStart = values['from-start'] === true;
  const logSources = logs.map((spec) => {
    try {
      return { ...parseLogSpec(spec), fromStart };
    } catch (err) {
      throw new UsageError(`watch: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  let duration: number | undefined;
  if (typeof values.duration === 'string') {
    duration = Number(values.duration);
    if (!Number.isFinite(duration) || duration <= 0)
      throw new UsageError(`watch: --duration ${values.duration}: expected a number of seconds`);
  }
  const c = config;
  const noSource =
    hep.length + interfaces.length + logs.length + syslog.length === 0 &&
    c.sources.hep === undefined &&
    c.sources.syslog === undefined &&
    c.sources.logs.length === 0 &&
    c.sources.interfaces.length === 0;
  config = {
    ...c,
    ...(typeof values.sensor === 'string' ? { sensor: values.sensor } : {}),
    store: { ...c.store, ...(typeof values.db === 'string' ? { path: values.db } : {}) },
    http: { ...c.http, ...(typeof values.http === 'string' ? { listen: values.http } : {}) },
    sources: { ...c.sources, logs: [...c.sources.logs, ...logSources] },
    sinks:
      values.quiet === true
        ? { ...c.sinks, stdout: { enabled: false, format: 'text', revealPasswords: false } }
        : c.sinks.stdout === undefined
          ? { ...c.sinks, stdout: { enabled: true, format: 'text', revealPasswords: false } }
          : c.sinks,
  };

  const log = (line: string): void => {
    process.stderr.write(`sipwarden watch: ${line}\n`);
  };
  let sensor: Sensor;
  try {
    sensor = new Sensor({
      config,
      log,
      ...(typeof values.jsonl === 'string' ? { jsonl: values.jsonl } : {}),
    });
  } catch (err) {
    if (err instanceof StoreError) {
      process.stderr.write(`sipwarden: ${err.message}\n`);
      return EXIT_INPUT;
    }
    throw err;
  }
  try {
    const said = await sensor.start({
      hep: noSource ? WATCH_DEFAULT_HEP : hep,
      syslog: noSource ? WATCH_DEFAULT_SYSLOG : syslog,
      interfaces,
    });
    for (const s of said) log(`listening: ${s}`);
  } catch (err) {
    await sensor.stop().catch(() => undefined);
    process.stderr.write(`sipwarden: watch: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_INPUT;
  }
  await new Promise<void>((resolve) => {
    // The --duration timer must not outlive a signal: it would hold the process open after stop().
    let timer: NodeJS.Timeout | undefined = undefined;
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      if (timer !== undefined) clearTimeout(timer);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
    if (duration !== undefined) timer = setTimeout(done, duration * 1000);
  });
  log('stopping');
  await sensor.stop();
  log(
    `stopped: ${sensor.stats.frames} SIP frames, ${sensor.stats.logEvents} log events, ${sensor.stats.revisions} alert revisions`,
  );
  return EXIT_OK;
}
