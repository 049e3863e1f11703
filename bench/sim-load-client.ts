// The load generator of bench/sim-bench.ts, run as its child process: N closed-loop streaming completions, one keep-alive
// HTTP/1.1 connection each.
//
// A raw node:net client rather than undici: under 1 000 streams undici's per-chunk machinery (a Buffer per read, its parser
// and handler calls, a dispatch queued behind the chunks it is reading) delayed the client's reading of a step's first
// tokens by up to ≈ 4 ms and ran ≈ 30 GCs a minute of up to ≈ 9 ms — delays of the load generator that showed up in the
// simulator's measured TTFT gap. Here every socket reads into one shared buffer (`onread`) and a byte-wise state machine
// de-chunks the body and counts SSE token events in place, so a chunk costs no allocation. It speaks just what the
// simulator answers: a status line, headers, then a chunked or content-length body; anything else is an error.
import { connect, type Socket } from 'node:net'
import { performance as perfHooks } from 'node:perf_hooks'

export interface LoadConfig {
  url: string
  concurrency: number
  durationMs: number
  promptTokens: number
  outputTokens: number
}

export interface Sample {
  id: string
  /** Epoch ms (performance.timeOrigin-based, sub-ms precision, comparable across processes). */
  startedAt: number
  wallTtftMs: number
  tokens: number
  warm: boolean
}

export interface LoadResult {
  samples: Sample[]
  errors: number
  elapsedMs: number
  cpuMs: number
  /** The load generator's event-loop utilization: near 1, its own delays inflate the measured gap. */
  eventLoopUtilization: number
}

const eventLoopUtilization = perfHooks.eventLoopUtilization.bind(perfHooks)
const epochNow = () => performance.timeOrigin + performance.now()

process.once('message', (config: LoadConfig) => {
  void runLoad(config).then((result) => process.send?.(result, () => process.exit(0)))
})

async function runLoad(config: LoadConfig): Promise<LoadResult> {
  const url = new URL(config.url)
  const target = { host: url.hostname, port: Number(url.port), path: url.pathname }
  const totals = { samples: [] as Sample[], errors: 0, seq: 0 }
  const started = performance.now()
  const cpuStart = process.cpuUsage()
  const elu = eventLoopUtilization()
  const progress = setInterval(() => process.stderr.write(`  ${((performance.now() - started) / 1000).toFixed(0)} s: ${totals.samples.length} requests done\n`), 10_000)
  await Promise.all(
    Array.from({ length: config.concurrency }, () => new Promise<void>((done) => new Stream(config, target, totals, () => performance.now() - started < config.durationMs, done))),
  )
  clearInterval(progress)
  const cpu = process.cpuUsage(cpuStart)
  return { samples: totals.samples, errors: totals.errors, elapsedMs: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1e3, eventLoopUtilization: eventLoopUtilization(elu).utilization }
}

/** Every socket reads into this buffer; its callback consumes a read before the next one is made. */
const READ_BUFFER = Buffer.alloc(64 * 1024)
const CR = 13
const LF = 10

const enum State {
  Head,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailer,
  FixedBody,
}

/** One closed-loop stream: a request, its whole response, the next request — on one connection, reopened after an error. */
class Stream {
  private socket: Socket | null = null
  private requests = 0
  private state = State.Head
  private head = ''
  private ok = false
  /** Body bytes left in the current chunk (or the content-length body); the chunk-size line's value while it is read. */
  private left = 0
  private sizeEnded = false
  private lineLength = 0
  private startedAt = 0
  private warm = false
  private readonly events = new SseScanner()

  constructor(
    private readonly config: LoadConfig,
    private readonly target: { host: string; port: number; path: string },
    private readonly totals: { samples: Sample[]; errors: number; seq: number },
    private readonly keepGoing: () => boolean,
    private readonly done: () => void,
  ) {
    this.open()
  }

  private open(): void {
    const socket = connect({
      host: this.target.host,
      port: this.target.port,
      noDelay: true,
      onread: {
        buffer: READ_BUFFER,
        callback: (n) => {
          this.read(READ_BUFFER, n)
          return true // keep reading
        },
      },
    })
    this.socket = socket
    socket.once('connect', () => this.send())
    socket.on('error', () => {})
    socket.once('close', () => {
      if (this.socket === socket) this.fail()
    })
  }

  private send(): void {
    const body = JSON.stringify({
      prompt: promptFor(this.totals.seq++, this.config.promptTokens),
      max_tokens: this.config.outputTokens,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    })
    const request =
      `POST ${this.target.path} HTTP/1.1\r\nhost: ${this.target.host}:${this.target.port}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
    this.state = State.Head
    this.head = ''
    this.events.reset()
    this.warm = this.requests++ > 0
    this.startedAt = epochNow()
    this.socket?.write(request)
  }

  /** Consumes one read, byte ranges at a time, through the response's framing. */
  private read(buf: Buffer, n: number): void {
    let i = 0
    while (i < n) {
      switch (this.state) {
        case State.Head:
          i = this.readHead(buf, i, n)
          break
        case State.ChunkSize:
          i = this.readChunkSize(buf, i, n)
          break
        case State.ChunkData:
        case State.FixedBody: {
          const end = Math.min(n, i + this.left)
          if (this.ok) this.events.scan(buf, i, end, epochNow)
          this.left -= end - i
          i = end
          if (this.left === 0) {
            if (this.state === State.FixedBody) return this.finish(i, n)
            this.state = State.ChunkDataEnd
            this.lineLength = 0
          }
          break
        }
        case State.ChunkDataEnd: {
          const byte = buf[i++]
          if (byte !== (this.lineLength++ === 0 ? CR : LF)) return this.fail()
          if (byte === LF) this.startChunkSize()
          break
        }
        case State.Trailer: {
          const byte = buf[i++]
          if (byte === LF) {
            if (this.lineLength === 0) return this.finish(i, n)
            this.lineLength = 0
          } else if (byte !== CR) this.lineLength++
          break
        }
      }
    }
  }

  /** The status line and headers, up to the blank line; returns where the body starts in buf (or n if still in the head). */
  private readHead(buf: Buffer, from: number, n: number): number {
    const before = this.head.length
    this.head += buf.toString('latin1', from, n)
    const end = this.head.indexOf('\r\n\r\n')
    if (end < 0) return this.head.length > 16 * 1024 ? (this.fail(), n) : n
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(this.head)
    const headers = this.head.slice(0, end).toLowerCase()
    this.ok = status?.[1] === '200'
    if (/\r\ntransfer-encoding: *chunked\r/.test(headers + '\r')) this.startChunkSize()
    else {
      const length = /\r\ncontent-length: *(\d+)\r/.exec(headers + '\r')
      if (status === null || length === null) return this.fail(), n
      this.state = State.FixedBody
      this.left = Number(length[1])
      if (this.left === 0) return this.finish(from + end + 4 - before, n), n
    }
    return from + end + 4 - before
  }

  private startChunkSize(): void {
    this.state = State.ChunkSize
    this.left = 0
    this.sizeEnded = false
    this.lineLength = 0
  }

  /** A chunk-size line: hex digits, an optional `;extension`, CRLF. */
  private readChunkSize(buf: Buffer, i: number, n: number): number {
    for (; i < n; i++) {
      const byte = buf[i]!
      if (byte === LF) {
        if (this.lineLength === 0) return this.fail(), n
        this.state = this.left === 0 ? State.Trailer : State.ChunkData
        this.lineLength = 0
        return i + 1
      }
      const digit = this.sizeEnded ? -1 : hexValue(byte)
      if (digit >= 0) {
        this.left = this.left * 16 + digit
        this.lineLength++
      } else if (byte === 59 /* ; */ || byte === CR) this.sizeEnded = true
      else if (!this.sizeEnded) return this.fail(), n
    }
    return n
  }

  /** The response is complete: record it, then send the next request on the same connection. */
  private finish(i: number, n: number): void {
    if (i < n) return this.fail() // bytes beyond the response: nothing was pipelined, so it is malformed
    if (this.ok && this.events.id !== '') {
      const { events } = this
      this.totals.samples.push({ id: events.id, startedAt: this.startedAt, wallTtftMs: events.firstTokenAt < 0 ? -1 : events.firstTokenAt - this.startedAt, tokens: events.tokens, warm: this.warm })
    } else this.totals.errors++
    if (this.keepGoing()) this.send()
    else this.close()
  }

  /** A malformed response or a lost connection: count it, and carry on with a fresh connection. */
  private fail(): void {
    this.totals.errors++
    this.socket?.destroy()
    this.socket = null
    if (this.keepGoing()) this.open()
    else this.done()
  }

  private close(): void {
    const socket = this.socket
    this.socket = null
    socket?.end()
    this.done()
  }
}

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48
  const lower = byte | 32
  return lower >= 97 && lower <= 102 ? lower - 87 : -1
}

/** Matches one byte pattern across arbitrary splits of a stream (Knuth–Morris–Pratt), one byte at a time. */
class StreamMatcher {
  private matched = 0
  private readonly fallback: Int32Array

  constructor(private readonly pattern: Buffer) {
    this.fallback = new Int32Array(pattern.length)
    for (let i = 1, k = 0; i < pattern.length; i++) {
      while (k > 0 && pattern[i] !== pattern[k]) k = this.fallback[k - 1]!
      if (pattern[i] === pattern[k]) k++
      this.fallback[i] = k
    }
  }

  /** True when this byte completes the pattern. */
  step(byte: number): boolean {
    let k = this.matched
    while (k > 0 && byte !== this.pattern[k]) k = this.fallback[k - 1]!
    if (byte === this.pattern[k]) k++
    if (k === this.pattern.length) {
      this.matched = 0
      return true
    }
    this.matched = k
    return false
  }

  reset(): void {
    this.matched = 0
  }
}

const QUOTE = 34

/**
 * Counts the token events of one SSE body as its bytes arrive: a completion chunk with a choice (the usage chunk has
 * `"choices":[]`, the end is `data: [DONE]`). The first token's time is taken when its event is complete.
 */
class SseScanner {
  id = ''
  tokens = 0
  /** Epoch ms at which the first complete token event arrived; -1 until then. */
  firstTokenAt = -1
  private readonly idStart = new StreamMatcher(Buffer.from('{"id":"'))
  private readonly tokenEvent = new StreamMatcher(Buffer.from('"choices":[{'))
  private readonly eventEnd = new StreamMatcher(Buffer.from('\n\n'))
  private readingId = false

  reset(): void {
    this.id = ''
    this.tokens = 0
    this.firstTokenAt = -1
    this.readingId = false
    this.idStart.reset()
    this.tokenEvent.reset()
    this.eventEnd.reset()
  }

  scan(buf: Buffer, from: number, to: number, now: () => number): void {
    for (let i = from; i < to; i++) {
      const byte = buf[i]!
      if (this.readingId) {
        if (byte === QUOTE) this.readingId = false
        else this.id += String.fromCharCode(byte)
      } else if (this.id === '' && this.idStart.step(byte)) this.readingId = true
      if (this.tokenEvent.step(byte)) this.tokens++
      if (this.eventEnd.step(byte) && this.tokens > 0 && this.firstTokenAt < 0) this.firstTokenAt = now()
    }
  }
}

// Plain English words (about one token each, like guidellm's Pride and Prejudice prompts); every prompt starts with a unique
// number so prefix caching is not hit by accident (as guidellm does).
const WORDS =
  'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no will more can out some them into only its time could who also like then what other than now about over any new may two first after most very way such these even made many must well because back good those through'.split(
    ' ',
  )
function promptFor(i: number, tokens: number): string {
  return `${i}: ` + Array.from({ length: tokens - 4 }, (_, k) => WORDS[(k * 7 + i * 13 + ((k * k) % 11)) % WORDS.length]).join(' ')
}
