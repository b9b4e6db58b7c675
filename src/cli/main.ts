import { runAnalyze } from './analyze.js';
import { runAlerts } from './alerts.js';
import { runAudit } from './audit.js';
import { runBlock } from './block.js';
import { runRules } from './rules.js';
import { runSite } from './site.js';
import { runWatch } from './watch.js';
import { EXIT_USAGE, UsageError } from './exit-codes.js';
import { applyHeapPolicy } from './heap.js';

const HELP = `sipwarden — security monitor and hardening auditor for SIP phone systems

Usage:
  sipwarden watch [--hep URL] [--interface NAME] [--log KIND:PATH] [--syslog URL] [--db FILE]
                  [--jsonl FILE] [--http ADDR] [--config FILE]     (help: watch --help)
  sipwarden analyze <capture|sip-file|log>... [--cdr 3cx:FILE]... [--format text|json|jsonl]
                    [--fail-on SEVERITY] [--config FILE]
  sipwarden alerts [--db FILE] [--since T] [--until T] [--rule R] [--state open|closed]
                   [--severity S] [--format text|json|jsonl] [--limit N] [--all]
  sipwarden alerts show ID | ack ID [--by NAME] [--note TEXT] | suppressions | unsuppress N
  sipwarden alerts suppress [--rule R] [--source IP/CIDR] [--identity X] --for DURATION [--reason TEXT]
  sipwarden audit <host>[:port]... [--rate N] [--extensions LIST] [--test-number N] [--intrusive]
                  [--wordlist FILE] [--format text|json|md|html] [--baseline FILE] (help: audit --help)
  sipwarden rules [--format text|json]
  sipwarden site [capture|sip-file|log...] [--cdr 3cx:FILE]... [--config FILE] [--format text|json]
  sipwarden block list --state FILE [--format text|json]
  sipwarden block add IP --state FILE [--for DURATION]
  sipwarden block unblock IP|CIDR --state FILE
  sipwarden version
  sipwarden help

alerts reads the store that \`watch --db\` writes (default ./sipwarden.db); T is an ISO time or a
duration ago (2h, 7d). audit probes only the targets given, at a declared rate, and only systems you
own or may test.

analyze reads pcap/pcapng captures (gzip too), raw SIP message files and PBX logs, decodes every SIP
message (UDP, TCP, fragments, WebSocket, HEP), and reports what it saw and the alerts it raised.
--cdr reads a 3CX CDR file (fields in the order of the configuration's cdr.fields) after them: the
fraud rules count its calls, once for a call the captures also show.

site shows the site model: the PBX, SBC/tunnel and trunk addresses, extensions and the identity
map, DIDs, home country, time zone, business hours, dial plan and allowed countries, each marked
told (configuration) or inferred (from the inputs, with its evidence), and configuration to paste
for the inferred ones (docs/site.md).

Exit codes: 0 ok, 1 findings at or above --fail-on, 2 usage error, 3 input error.
`;

/** Runs the command line; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'watch' || command === 'analyze' || command === 'site') applyHeapPolicy();
    switch (command) {
      case 'watch':
        return await runWatch(rest);
      case 'analyze':
        return await runAnalyze(rest);
      case 'rules':
        return runRules(rest);
      case 'site':
        return await runSite(rest);
      case 'alerts':
        return await runAlerts(rest);
      case 'audit':
        return await runAudit(rest);
      case 'block':
        return await runBlock(rest);
      case 'version':
      case '--version':
      case '-V':
        process.stdout.write(`sipwarden ${await version()}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        return command === undefined ? EXIT_USAGE : 0;
      default:
        throw new UsageError(`unknown command '${command}' (try 'sipwarden help')`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`sipwarden: ${err.message}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
