import { execFileSync } from 'node:child_process'
import { connect, constants, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startStack, type StackProcess } from './stack-process.js'

const MODEL = 'Qwen/Qwen3-0.6B'
const PREFIX = '/my-first-model/qwen3-0-6b'

interface H2Answer {
  status: number
  body: string
  /** The RST_STREAM code the stream closed with (NGHTTP2_NO_ERROR when it ended normally). */
  rstCode: number
}

/** One request on an h2c session; `body` undefined sends headers only; `end` false leaves the request body unfinished. */
function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: string, end = true): Promise<H2Answer> {
  return new Promise((resolve) => {
    const stream = session.request(headers, { endStream: body === undefined })
    let status = 0
    let text = ''
    stream.on('response', (h) => (status = Number(h[':status'])))
    stream.on('data', (d: Buffer) => (text += d.toString()))
    stream.on('error', () => {}) // a reset stream: its rstCode says why
    // The answer is complete, even if the request body is not: a stream the gateway reset after answering (RFC 9113
    // §8.1) only waits for that body in node:http2, so it is let go; one still open is closed.
    stream.on('end', () => (stream.closed ? stream.destroy() : stream.close()))
    stream.on('close', () => resolve({ status, body: text, rstCode: stream.rstCode ?? constants.NGHTTP2_NO_ERROR }))
    if (body !== undefined) stream[end ? 'end' : 'write'](body)
  })
}

const chatStream = (content: string, maxTokens: number) =>
  JSON.stringify({ model: MODEL, messages: [{ role: 'user', content }], max_tokens: maxTokens, ignore_eos: true, stream: true })
const post = (path: string): OutgoingHttpHeaders => ({ ':method': 'POST', ':path': `${PREFIX}${path}`, 'content-type': 'application/json' })

describe('cleartext HTTP/2 with prior knowledge (h2c) on the HTTP listener', () => {
  let stack: StackProcess
  let gw: string
  let session: ClientHttp2Session

  beforeAll(async () => {
    stack = await startStack(['--time-scale', '10'])
    gw = stack.gatewayUrl('openshift-ai-inference')
    session = connect(gw)
  }, 90_000)

  afterAll(async () => {
    session?.close()
    expect(await stack?.stop()).toBe(0)
  })

  it('serves docs/gateway.md\'s curl --http2-prior-knowledge command', () => {
    const out = execFileSync('curl', ['-s', '--http2-prior-knowledge', `${gw}${PREFIX}/v1/models`], { encoding: 'utf8' })
    expect(JSON.parse(out).data[0].id).toBe(MODEL)
    const version = execFileSync('curl', ['-s', '--http2-prior-knowledge', '-o', '/dev/null', '-w', '%{http_version}', `${gw}${PREFIX}/v1/models`], { encoding: 'utf8' })
    expect(version).toBe('2')
    // HTTP/1.1's `Upgrade: h2c` (removed by RFC 9113) is not taken up: such a client simply stays on HTTP/1.1.
    const upgrade = execFileSync('curl', ['-s', '--http2', '-o', '/dev/null', '-w', '%{http_version}', `${gw}${PREFIX}/v1/models`], { encoding: 'utf8' })
    expect(upgrade).toBe('1.1')
  })

  it('routes h2c requests (catch-all and picker routes), with OpenAI-shaped errors; HTTP/1.1 on the same port is unchanged', async () => {
    const models = await h2Request(session, { ':path': `${PREFIX}/v1/models` })
    expect(models.status).toBe(200)
    expect(JSON.parse(models.body).data[0].id).toBe(MODEL)

    const chat = await h2Request(session, post('/v1/chat/completions'), JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5 }))
    expect(chat.status).toBe(200)
    expect(JSON.parse(chat.body).usage.prompt_tokens).toBe(9)

    const missing = await h2Request(session, { ':path': '/nowhere' })
    expect(missing.status).toBe(404)
    expect(JSON.parse(missing.body).error).toMatchObject({ type: 'not_found_error', code: 'route_not_found' })

    const http1 = await fetch(`${gw}${PREFIX}/v1/models`)
    expect(http1.status).toBe(200)
    expect(((await http1.json()) as { data: { id: string }[] }).data[0]!.id).toBe(MODEL)

    const protocols = (await stack.accessLog()).map((l) => l.protocol)
    expect(protocols).toContain('HTTP/2.0')
    expect(protocols).toContain('HTTP/1.1')
  })

  it('streams SSE over h2c as events are produced', async () => {
    const stream = session.request(post('/v1/chat/completions'))
    stream.end(chatStream('Tell me a story', 30))
    const arrivals: number[] = []
    let text = ''
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (d: Buffer) => {
        arrivals.push(performance.now())
        text += d.toString()
      })
      stream.on('end', resolve)
      stream.on('error', reject)
    })
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true)
    expect(text.match(/^data: \{/gm)!.length).toBeGreaterThan(10)
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThan(0) // several DATA frames over time, not one buffered body
  })

  it('limits: a body over 32 MiB gets 413 (declared or not); a header list over 64 KiB gets 431, or a stream reset once SETTINGS are in force', async () => {
    const big = await h2Request(session, { ...post('/v1/chat/completions'), 'content-length': String(33 * 2 ** 20) }, '{', false)
    expect(big.status).toBe(413)
    expect(JSON.parse(big.body).error.code).toBe('request_too_large')

    // Without a declared length, the gateway reads up to the limit, answers 413 and ends the exchange: HTTP/2 resets only
    // the stream (the session serves on), HTTP/1.1 closes the connection.
    const unsized = await h2Request(session, post('/v1/chat/completions'), 'x'.repeat(33 * 2 ** 20))
    expect(unsized.status).toBe(413)
    expect(JSON.parse(unsized.body).error).toMatchObject({ type: 'invalid_request_error', code: 'request_too_large' })
    expect((await h2Request(session, { ':path': `${PREFIX}/v1/models` })).status).toBe(200)
    // 40 chunks of 1 MiB, past the 32 MiB limit. Bounded: undici's fetch may go on pulling a request body after the
    // 413 has arrived, and an endless source then grew this test process to 19 GB on a full-suite run.
    let sent = 0
    const chunks = new ReadableStream({
      pull: (c) => (sent++ < 40 ? c.enqueue(new Uint8Array(2 ** 20)) : c.close()),
    })
    const http1 = await fetch(`${gw}${PREFIX}/v1/chat/completions`, { method: 'POST', body: chunks, duplex: 'half' } as RequestInit)
    expect(http1.status).toBe(413)
    expect(http1.headers.get('connection')).toBe('close')
    expect(((await http1.json()) as { error: { code: string } }).error.code).toBe('request_too_large')

    // node:http2 clients refuse to send a header block over 64 KiB themselves: this one is told not to.
    const bold = connect(gw, { maxSendHeaderBlockLength: 2 ** 20 })
    const oversized = { ':path': `${PREFIX}/v1/models`, 'x-big': 'ab'.repeat(35_000) }
    try {
      // Sent with the preface, before the client has acknowledged the gateway's SETTINGS: measured by the gateway.
      const early = await h2Request(bold, oversized)
      expect(early.status).toBe(431)
      expect(JSON.parse(early.body).error).toMatchObject({ type: 'invalid_request_error', code: 'headers_too_large' })
      expect((await h2Request(bold, { ':path': `${PREFIX}/v1/models` })).status).toBe(200)
      // Once SETTINGS_MAX_HEADER_LIST_SIZE is in force, node:http2 resets the stream before any request exists.
      const late = await h2Request(bold, oversized)
      expect(late.rstCode).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM)
      expect((await h2Request(bold, { ':path': `${PREFIX}/v1/models` })).status).toBe(200) // the session is unharmed
    } finally {
      bold.destroy()
    }
  })
})

describe('shutdown with h2c sessions open', () => {
  it('SIGTERM lets an h2c stream finish, tells idle sessions to go away, and exits 0', async () => {
    const stack = await startStack(['--time-scale', '5'])
    const gw = stack.gatewayUrl()
    const idle = connect(gw)
    const busy = connect(gw)
    try {
      expect((await h2Request(idle, { ':path': `${PREFIX}/v1/models` })).status).toBe(200)
      const idleGone = new Promise<void>((resolve) => idle.once('goaway', () => resolve()))
      const streaming = h2Request(busy, post('/v1/chat/completions'), chatStream('story', 100))
      await new Promise((r) => setTimeout(r, 150))
      const stopping = performance.now()
      stack.child.kill('SIGTERM')
      await idleGone
      const answer = await streaming
      expect(answer.status).toBe(200)
      expect(answer.body.endsWith('data: [DONE]\n\n')).toBe(true)
      expect(answer.body).not.toContain('"error"')
      expect(await stack.stop()).toBe(0)
      expect(performance.now() - stopping).toBeLessThan(15_000) // the drain deadline is 30 s: nothing waited for it
    } finally {
      idle.destroy()
      busy.destroy()
      await stack.stop()
    }
  })
})
