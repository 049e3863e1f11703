// vLLM's error responses: {"error":{"message","type","param","code"}} with the HTTP status as `code`
// (spec/sim-vllm-guidellm.md §1.2 and §4).

const typeByStatus: Record<number, string> = {
  400: 'BadRequestError',
  401: 'AuthenticationError',
  403: 'PermissionDeniedError',
  404: 'NotFoundError',
  422: 'UnprocessableEntityError',
  429: 'RateLimitError',
}

export class OpenAIError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = typeByStatus[status] ?? (status >= 500 ? 'InternalServerError' : 'APIConnectionError'),
    readonly param: string | null = null,
  ) {
    super(message)
  }

  toJSON(): { error: { message: string; type: string; param: string | null; code: number } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.status } }
  }
}

/** Request validation failures: vLLM rewrites them to 400 with the HTTP phrase as the type. */
export function validationError(message: string, param: string | null = null): OpenAIError {
  return new OpenAIError(400, message, 'Bad Request', param)
}

export function modelNotFound(model: string): OpenAIError {
  return new OpenAIError(404, `The model \`${model}\` does not exist.`, 'NotFoundError', 'model')
}
