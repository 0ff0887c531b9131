#!/usr/bin/env -S node --max-semi-space-size=8
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, DEFAULT_CLIENT_SERVER, loadConfig } from '../config/index.js';
import { registerCancelCommand } from './commands/cancel-command.js';
import { registerDownloadCommand } from './commands/download-command.js';
import { registerListCommand } from './commands/list-command.js';
import { registerRetryCommand } from './commands/retry-command.js';
import { registerStatusCommand } from './commands/status-command.js';
import { registerSubmitCommand } from './commands/submit-command.js';
import { EXIT_CODES } from './exit-codes.js';

const program = new Command()
  .name('doc-transcribe')
  .description('Documents to text and recordings to transcripts, as a self-hosted service.')
  .option('--server <url>', `the service to talk to (env DT_SERVER, default ${DEFAULT_CLIENT_SERVER})`)
  .option('--api-key <key>', 'an API key, dt_… (env DT_API_KEY); none for a local single-user service')
  .option('--json', 'print one JSON document for scripts instead of text')
  .option('--verbose', 'print each request with its request id on stderr')
  // Usage mistakes exit 2 (docs/cli.md), not commander's 1, so scripts can tell them from failures.
  .exitOverride();

registerSubmitCommand(program);
registerStatusCommand(program);
registerListCommand(program);
registerCancelCommand(program);
registerRetryCommand(program);
registerDownloadCommand(program);

program
  .command('serve')
  .description('run the service: the API, the worker, or both (the single-machine default)')
  .addOption(new Option('--role <role>', 'which part to run').choices(['all', 'api', 'worker']))
  .action(async (options: { role?: string }) => {
    let config: ReturnType<typeof loadConfig>;
    try {
      config = loadConfig(process.env, options.role ? { SERVICE_ROLE: options.role } : {});
    } catch (error) {
      if (error instanceof ConfigError) {
        process.stderr.write(`doc-transcribe: ${error.message}\nSee docs/configuration.md.\n`);
        process.exit(2);
      }
      throw error;
    }
    // Loaded here, not at the top: the client commands start fast without the service's modules.
    const { createLogger, errorFields } = await import('../observability/logger.js');
    const { startService } = await import('../service/start-service.js');
    const logger = createLogger({ level: config.logLevel, role: config.role });
    if (config.auth.oidc) {
      logger.info(
        { event: 'auth.oidc_mode', issuer: config.auth.oidc.issuer, client_id: config.auth.oidc.clientId },
        'Requests need a token from the identity provider or an API key.',
      );
    } else {
      logger.warn(
        { event: 'auth.local_mode', host: config.http.host, insecure: config.auth.allowInsecureLocal },
        'No identity provider configured: every request acts as the one local user, an administrator. Keep HOST on loopback.',
      );
    }
    const service = await startService(config, logger).catch((error: unknown) => {
      logger.fatal({ event: 'service.start_failed', ...errorFields(error) }, 'could not start');
      process.exit(1);
    });
    if (service.url) process.stdout.write(`\ndoc-transcribe is running at ${service.url}\n\n`);

    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ event: 'service.signal', signal }, 'signal received');
      service.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ event: 'service.stop_failed', ...errorFields(error) });
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  const shownHelp = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
  process.exitCode = shownHelp ? EXIT_CODES.ok : EXIT_CODES.usage;
}
