import type { Command } from 'commander'
import { resolveAdmin } from './admin-client.js'

interface BenchFlags {
  target?: string
  model?: string
  apiKey?: string
  endpoint?: string
  profile?: string
  rate?: string
  concurrency?: string
  maxConcurrency?: string
  sweepSize?: string
  maxSeconds?: string
  maxRequests?: string
  warmup?: string
  cooldown?: string
  seed?: string
  data?: string
  workload?: string
  metricsUrl: string[]
  stackMetrics?: boolean
  admin?: string
  stateDir?: string
  output: string[]
  progress: boolean
  compare?: string[]
  timeScale: string
}

const collect = (value: string, previous: string[]) => [...previous, value]

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description('load-test an OpenAI-compatible server (GuideLLM profiles, TTFT/ITL percentiles, reports), or compare stack configs')
    .option('--target <URL>', 'OpenAI base URL up to /v1, e.g. http://127.0.0.1:8080/my-first-model/qwen3-0-6b/v1')
    .option('--model <NAME>', 'model to request (default: the first of <target>/models)')
    .option('--api-key <KEY>', 'bearer token (default $OPENAI_API_KEY)')
    .option('--endpoint <API>', 'chat (/v1/chat/completions) or completions (/v1/completions); default chat')
    .option('--profile <KIND>', 'synchronous | concurrent | throughput | constant | poisson | sweep | replay; default sweep')
    .option('--rate <R>', 'constant / poisson: requests per second')
    .option('--concurrency <N>', 'concurrent: streams kept in flight')
    .option('--max-concurrency <N>', 'throughput (and a sweep’s throughput run): requests in flight; default 512')
    .option('--sweep-size <K>', 'sweep: benchmarks in all, synchronous and throughput included; default 10')
    .option('--max-seconds <S>', 'stop each run after S seconds (requests then in flight are cancelled, counted incomplete)')
    .option('--max-requests <N>', 'stop each run after N requests')
    .option('--warmup <X>', 'leave out of the statistics the start of a run: a fraction (< 1) or seconds; default 0')
    .option('--cooldown <X>', 'leave out the end of a run: a fraction (< 1) or seconds; default 0')
    .option('--seed <N>', 'seed of the synthetic prompts, lengths and Poisson arrivals; default 42')
    .option('--data <SPEC|FILE.jsonl>', "synthetic 'prompt_tokens=256,output_tokens=128[,…]' or a JSONL trace; default that spec")
    .option('--workload <FILE>', 'YAML file of these settings in camelCase (profile, rate, maxRequests, data, …); flags win')
    .option('--metrics-url <URL>', "a server's /metrics to read before and after (hit rate, preemptions, share; repeatable)", collect, [])
    .option('--stack-metrics', 'read /metrics of every endpoint of the running `maitred up` (found like `maitred get`)')
    .option('--admin <URL>', 'admin API of the running stack, for --stack-metrics (default: from the state dir)')
    .option('--state-dir <DIR>', 'state dir of the running `maitred up`, for --stack-metrics')
    .option('-o, --output <FILE>', 'write the report: .json, .csv or .html (repeatable)', collect, [])
    .option('--no-progress', 'no live progress display')
    .option('--compare <STACK.yaml...>', 'what-if: run the workload through each stack in turn on fresh simulated replicas, side by side')
    .option('--time-scale <N>', '--compare: simulated servers run N× faster than real time (figures are reported in simulated time)', '10')
    .action(async (flags: BenchFlags) => {
      const [{ resolveSettings }, { createProgress }] = await Promise.all([import('../bench/bench-settings.js'), import('../bench/progress.js')])
      const settings = resolveSettings(
        {
          profile: flags.profile,
          rate: flags.rate,
          concurrency: flags.concurrency,
          maxConcurrency: flags.maxConcurrency,
          sweepSize: flags.sweepSize,
          maxSeconds: flags.maxSeconds,
          maxRequests: flags.maxRequests,
          warmup: flags.warmup,
          cooldown: flags.cooldown,
          seed: flags.seed,
          data: flags.data,
          endpoint: flags.endpoint,
        },
        flags.workload,
      )
      const progress = flags.progress ? createProgress(process.stderr) : undefined
      if (flags.compare) {
        if (flags.output.length > 0) throw new Error('--output is not supported with --compare (the comparison is printed)')
        const [{ runCompare }, { formatCompareTable }] = await Promise.all([import('../bench/compare.js'), import('../bench/compare-table.js')])
        const timeScale = Number(flags.timeScale)
        if (!(timeScale > 0)) throw new Error('--time-scale: expected a positive number')
        const results = await runCompare(flags.compare, { settings, timeScale, model: flags.model, progress, log: (l) => process.stderr.write(`${l}\n`) })
        process.stdout.write(`${formatCompareTable(results)}\n`)
        return
      }
      if (!flags.target) throw new Error('bench: --target URL is required (or --compare STACK.yaml…)')
      const [{ firstModel, metricsSourceOf, stackMetricsSources }, { workloadFactory }, { runBenchmark }, { formatReportTable }, { writeReports }] = await Promise.all([
        import('../bench/bench-target.js'),
        import('../bench/make-workload.js'),
        import('../bench/run-benchmark.js'),
        import('../bench/report-table.js'),
        import('../bench/write-reports.js'),
      ])
      const baseUrl = flags.target.replace(/\/+$/, '')
      const apiKey = flags.apiKey ?? process.env.OPENAI_API_KEY
      const model = flags.model ?? (await firstModel(baseUrl, apiKey))
      const metrics = [
        ...flags.metricsUrl.map(metricsSourceOf),
        ...(flags.stackMetrics ? await stackMetricsSources(await resolveAdmin(flags, 'pass --admin URL or --metrics-url')) : []),
      ]
      const workload = await workloadFactory(settings.data, model, settings.seed)
      const report = await runBenchmark({
        target: { baseUrl, model, apiKey, endpoint: settings.endpoint },
        profile: { kind: settings.profile, rate: settings.rate, concurrency: settings.concurrency, maxConcurrency: settings.maxConcurrency, sweepSize: settings.sweepSize },
        limits: { maxSeconds: settings.maxSeconds, maxRequests: settings.maxRequests },
        window: { warmup: settings.warmup, cooldown: settings.cooldown },
        seed: settings.seed,
        workload: workload.make,
        data: workload.description,
        metrics,
        progress,
      })
      process.stdout.write(`${formatReportTable(report)}\n`)
      await writeReports(report, flags.output)
    })
}
