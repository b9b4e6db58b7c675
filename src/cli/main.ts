import { runAnalyze } from './analyze.js';
import { runRules } from './rules.js';
import { EXIT_USAGE, UsageError } from './exit-codes.js';

const HELP = `sipwarden — security monitor and hardening auditor for SIP phone systems

Usage:
  sipwarden analyze <capture|sip-file>... [--format text|json|jsonl] [--fail-on SEVERITY]
  sipwarden rules [--format text|json]
  sipwarden version
  sipwarden help

analyze reads pcap/pcapng captures (gzip too) and raw SIP message files, decodes every SIP message
(UDP, TCP, fragments, WebSocket, HEP), and reports what it saw and the alerts it raised.

Exit codes: 0 ok, 1 findings at or above --fail-on, 2 usage error, 3 input error.
`;

/** Runs the command line; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'analyze':
        return await runAnalyze(rest);
      case 'rules':
        return runRules(rest);
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
