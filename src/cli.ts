// The `strata` command. `main` is the only place that decides an exit code; errors meant
// for a person print as one line, a stack trace only with --debug.
import { Command, CommanderError, Option } from 'commander';
import { CliError, EXIT, storageFailure } from './errors.ts';
import { noProgress, terminalProgress } from './progress.ts';
import { projectPath } from './paths.ts';

export const VERSION = '0.1.0';
export const SAMPLE_DELIVERY = projectPath('sample-data', 'delivery');

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  now: () => Date;
  env: NodeJS.ProcessEnv;
}

const defaultIo: Io = {
  stdout: process.stdout,
  stderr: process.stderr,
  now: () => new Date(),
  env: process.env,
};

function parseNumber(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n)) throw new CliError(`${name} must be a number, not "${value}"`, EXIT.badInput);
    return n;
  };
}

export function buildProgram(io: Io): Command {
  const program = new Command('strata')
    .description('Population-health risk stratification for an NHS integrated care system')
    .version(VERSION)
    .option('--debug', 'show stack traces for errors')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });

  program
    .command('synth')
    .description('write a synthetic LLR delivery with its ground truth')
    .option(
      '--scale <s>',
      'population scale, 1 = 1,133,842 registered patients',
      parseNumber('--scale'),
      0.01,
    )
    .option('--seed <n>', 'random seed (same seed, same bytes)', parseNumber('--seed'), 7)
    .option('--as-of <date>', 'as-of (extract) date, YYYY-MM-DD', '2026-03-31')
    .option(
      '--world-date <date>',
      'generate the world as of this date and cut the delivery at the as-of date (default: the as-of date)',
    )
    .option(
      '--practices <n>',
      'keep only this many practices, spread over the three places',
      parseNumber('--practices'),
    )
    .requiredOption('--out <dir>', 'folder to write the delivery to (replaced)')
    .action(async (opts) => {
      const { synthesise } = await import('./synth/index.ts');
      const started = Date.now();
      const summary = await synthesise({
        scale: opts.scale,
        seed: opts.seed,
        out: opts.out,
        asOf: opts.asOf,
        worldDate: opts.worldDate,
        practices: opts.practices,
        progress: terminalProgress(io.stderr as NodeJS.WriteStream),
      });
      const lines = summary.files.reduce((s, f) => s + f.lines, 0);
      io.stdout.write(
        `Wrote ${summary.patients} patients (${summary.eligible} registered on the as-of date) at ${summary.practices} practices, ` +
          `${summary.files.length} files, ${lines} data lines, to ${opts.out} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
      );
    });

  program
    .command('validate')
    .description('ingest a delivery and print its data-quality report (nothing is published)')
    .option('--delivery <dir>', 'delivery folder', SAMPLE_DELIVERY)
    .option('--config <file>', 'configuration file (JSON)')
    .option('--json', 'the report as JSON on stdout')
    .action(async (opts) => {
      const { validateDelivery, formatValidation } = await import('./validate.ts');
      const { loadConfig } = await import('./config.ts');
      const { jsonLogger, terminalLogger } = await import('./log.ts');
      const log = io.stderr.isTTY && !opts.json ? terminalLogger(io.stderr) : jsonLogger(io.stderr);
      const report = await validateDelivery(opts.delivery, loadConfig(opts.config), log);
      io.stdout.write(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatValidation(report));
      process.exitCode = report.exit_code;
    });

  program
    .command('run')
    .description('run the pipeline on a delivery and publish the results (default: the bundled sample)')
    .option('--delivery <dir>', 'delivery folder', SAMPLE_DELIVERY)
    .option('--out <dir>', 'output folder', 'out')
    .option('--as-of <date>', 'as-of date, YYYY-MM-DD (default: the extract date)')
    .option('--config <file>', 'configuration file (JSON)')
    .option('--keep <n>', 'keep this many published runs', parseNumber('--keep'))
    .option('--json', 'JSON log lines on stderr and a JSON summary on stdout')
    .option(
      '--skip-unchanged',
      'do nothing if the delivery, as-of date and configuration match the latest run',
    )
    .option(
      '--since <run-id>',
      'compare the practice lists with this retained run instead of the latest (default: the latest run)',
    )
    .option('--verbose', 'more detail in the log')
    .action(async (opts) => {
      const { runPipeline } = await import('./run.ts');
      const { loadConfig } = await import('./config.ts');
      const { jsonLogger, terminalLogger } = await import('./log.ts');
      const tty = Boolean(io.stderr.isTTY) && !opts.json;
      const log = tty
        ? terminalLogger(io.stderr, opts.verbose)
        : jsonLogger(io.stderr, opts.verbose ? 'debug' : 'info');
      const summary = await runPipeline({
        deliveryDir: opts.delivery,
        outDir: opts.out,
        asOf: opts.asOf,
        config: loadConfig(opts.config),
        log,
        progress: tty ? terminalProgress(io.stderr as NodeJS.WriteStream) : noProgress,
        softwareVersion: VERSION,
        now: io.now,
        keep: opts.keep,
        skipUnchanged: opts.skipUnchanged,
        since: opts.since,
      });
      if (opts.json)
        io.stdout.write(
          JSON.stringify({ ...summary, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) }) +
            '\n',
        );
      else io.stdout.write(runReport(summary));
      process.exitCode = summary.exitCode;
    });

  program
    .command('query')
    .description(
      'answer a question from the latest published commissioner summaries (aggregates only): cohorts, tiers, attrition, or sql "select ..."',
    )
    .argument('<question>', 'cohorts, tiers, attrition or sql')
    .argument(
      '[statement]',
      'for sql: one SELECT over cohort_summary, tier_summary, cohort_by_age_sex, cohort_by_deprivation, attrition, metadata',
    )
    .option('--out <dir>', 'output folder', 'out')
    .addOption(
      new Option('--level <level>', 'organisation level').choices(['practice', 'pcn', 'place', 'system']),
    )
    .option('--place <name>', 'only organisations in this place')
    .option('--pcn <code>', 'only organisations in this PCN')
    .addOption(
      new Option('--format <format>', 'output format')
        .choices(['table', 'csv', 'json', 'parquet'])
        .default('table'),
    )
    .option('--output <file>', 'write to this file (needed for parquet; never inside the output folder)')
    .option('--config <file>', 'configuration file (JSON); its query section sets the limits below')
    .option(
      '--timeout <seconds>',
      'stop a question after this many seconds (default 60)',
      parseNumber('--timeout'),
    )
    .option('--memory-limit <size>', 'memory a question may use, e.g. 1GB (default 1GB)')
    .option('--threads <n>', 'DuckDB threads for the question (default 2)', parseNumber('--threads'))
    .action(async (question: string, statement: string | undefined, opts) => {
      const { runQuery, queryLimits } = await import('./query.ts');
      const { loadConfig } = await import('./config.ts');
      const { config, timeout, memoryLimit, threads, ...rest } = opts;
      const limits = queryLimits(loadConfig(config).query, { timeout, memoryLimit, threads });
      await runQuery({ question, sql: statement, ...rest }, io, limits);
    });

  program
    .command('reidentify')
    .description(
      "at the practice: join the practice's risk list with its own lookup of pseudonyms to NHS numbers, into a folder of its own, for its clinical system to import",
    )
    .requiredOption(
      '--list <path>',
      "the practice's folder in a published run, or its risk-list.csv or left-since-last-run.csv",
    )
    .requiredOption(
      '--lookup <file>',
      "the practice's lookup: a CSV with pseudo_id and the identifier column",
    )
    .requiredOption(
      '--to <dir>',
      "the practice's own folder to write to (never inside strata's output folder)",
    )
    .option('--id-column <name>', 'the identifier column of the lookup', 'nhs_number')
    .option('--name <name>', 'the start of the file names written', 'risk-list')
    .option(
      '--cohort <names...>',
      'only patients in any of these cohorts: multimorbidity, frailty, high_cost',
    )
    .option('--tier <tiers...>', 'only patients in these tiers: very_high, high, moderate, low')
    .option('--new', 'only patients new to a cohort or tier since the last run')
    .option('--out <dir>', "strata's output folder, refused as a destination", 'out')
    .action(async (opts) => {
      const { reidentify } = await import('./reidentify.ts');
      const s = reidentify({
        list: opts.list,
        lookup: opts.lookup,
        idColumn: opts.idColumn,
        to: opts.to,
        outDir: opts.out,
        name: opts.name,
        cohorts: opts.cohort,
        tiers: opts.tier,
        onlyNew: opts.new,
      });
      io.stdout.write(
        `${s.written} of ${s.selected} selected patients written to ${s.files.join(' and ')}` +
          (s.missingFromLookup ? `; ${s.missingFromLookup} not in the lookup` : '') +
          (s.invalidIdentifiers ? `; ${s.invalidIdentifiers} with a malformed identifier left out` : '') +
          '\n',
      );
      if (s.missingFromLookup || s.invalidIdentifiers) process.exitCode = EXIT.quarantined;
    });

  return program;
}

function runReport(s: import('./run.ts').RunSummary): string {
  if (s.skippedAsUnchangedSince)
    return `Inputs unchanged since run ${s.skippedAsUnchangedSince}: nothing run, latest unchanged\n`;
  const lines = [`Run ${s.runId} (as of ${s.asOf}) published to ${s.runDir}`];
  for (const [k, v] of Object.entries(s.counts)) lines.push(`  ${k.padEnd(48)} ${v.toLocaleString('en-GB')}`);
  if (s.predictionsNotAvailable)
    lines.push(
      `Predicted high cost cohort, tiers and admission risk NOT AVAILABLE: ${s.predictionsNotAvailable}`,
    );
  if (s.quarantined.length) {
    lines.push(`${s.quarantined.length} practice(s) NOT processed:`);
    for (const q of s.quarantined) lines.push(`  ${q.practice_code}: ${q.reason}`);
  }
  if (s.quarantinedFiles.length) {
    lines.push(`${s.quarantinedFiles.length} secondary-care file(s) NOT read:`);
    for (const q of s.quarantinedFiles) lines.push(`  ${q.path}: ${q.reason}`);
  }
  return lines.join('\n') + '\n';
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return EXIT.ok;
      return EXIT.badInput;
    }
    const debug = argv.includes('--debug');
    if (err instanceof CliError) {
      io.stderr.write(`strata: ${redact(err.message)}\n`);
      if (debug) io.stderr.write(`${redact(err.stack ?? '')}\n`);
      return err.exitCode;
    }
    // A full disk or a folder that cannot be written: the environment, not a bug, in one line.
    const storage = storageFailure(err);
    if (storage) {
      io.stderr.write(
        `strata: the output could not be written: ${storage}; nothing was published and the latest run is unchanged\n`,
      );
      if (debug) io.stderr.write(`${redact(err instanceof Error ? (err.stack ?? '') : '')}\n`);
      return EXIT.internal;
    }
    io.stderr.write(
      `strata: internal error: ${redact(err instanceof Error ? err.message.split('\n')[0]! : String(err))}\n`,
    );
    if (debug) io.stderr.write(`${redact(err instanceof Error ? (err.stack ?? '') : '')}\n`);
    else io.stderr.write('strata: run again with --debug for details\n');
    return EXIT.internal;
  }
}

/**
 * A database error can quote the value it choked on; if that value was a pseudonym, it
 * must not reach a terminal or a log. Messages are otherwise left as they are.
 */
export function redact(message: string): string {
  return message.replace(/[0-9a-f]{16,64}/gi, '<pseudonym>');
}

export { Option };
