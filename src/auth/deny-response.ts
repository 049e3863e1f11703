import type { DenyWith, ValueOrExpression } from '../config/authpolicy-schema.js'
import { AdmissionDenial } from '../gateway/admission.js'
import { openAIErrorBody } from '../gateway/openai-error.js'
import { celText, compileCel, type CelContext } from './cel.js'

type Value = (context: CelContext) => string

function compileValue(v: ValueOrExpression): Value {
  if (v.expression === undefined) {
    const text = String(v.value)
    return () => text
  }
  const program = compileCel(v.expression)
  return (context) => {
    try {
      return celText(program(context))
    } catch {
      return ''
    }
  }
}

/**
 * An AuthPolicy's `response.unauthenticated` / `unauthorized`: status, message, headers and body, over the defaults
 * (401 with `WWW-Authenticate: Bearer realm="maitred"`, 403; OpenAI-shaped bodies).
 */
export class DenyResponse {
  readonly #status: number
  readonly #message: Value | undefined
  readonly #headers: [string, Value][]
  readonly #body: Value | undefined

  constructor(
    private readonly defaultStatus: 401 | 403,
    spec: DenyWith | undefined,
  ) {
    this.#status = spec?.code ?? defaultStatus
    this.#message = spec?.message && compileValue(spec.message)
    this.#headers = Object.entries(spec?.headers ?? {}).map(([name, v]) => [name.toLowerCase(), compileValue(v)])
    this.#body = spec?.body && compileValue(spec.body)
  }

  deny(context: CelContext, message: string, code: string): AdmissionDenial {
    const headers: Record<string, string> = this.defaultStatus === 401 ? { 'www-authenticate': 'Bearer realm="maitred"' } : {}
    for (const [name, value] of this.#headers) headers[name] = value(context)
    const text = this.#message?.(context) || message
    const body = this.#body ? this.#body(context) : openAIErrorBody(this.#status, text, code)
    headers['content-type'] ??= body.startsWith('{') ? 'application/json' : 'text/plain'
    return new AdmissionDenial(this.#status, headers, body, 'UAEX')
  }
}
