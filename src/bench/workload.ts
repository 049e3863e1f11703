import type { ChatMessage } from '../sim/tokenizer.js'

/** One request to send: a completions prompt, or chat messages (a multi-turn conversation carries its history). */
export interface WorkItem {
  /** Prefix group (shared-prefix workloads), else 0. */
  group: number
  conversation: number
  /** 1-based turn within its conversation. */
  turn: number
  /** The prompt: the text of a completions request, the last user message of a chat request. */
  prompt: string
  /** Shared prefix text, sent as the system message of a chat request and in front of a completions prompt. */
  prefix: string
  /** Earlier turns of the conversation (user and assistant messages), oldest first. */
  history: ChatMessage[]
  /** Output tokens to ask for (sent with ignore_eos so the server produces exactly these); undefined: the server decides. */
  maxTokens: number | undefined
  /** Replay: ms after the start of the run at which to send it. */
  at?: number
}

/** Where a benchmark's requests come from; the same seed gives the same sequence. */
export interface Workload {
  readonly description: string
  /** Whether finished() needs the reply text (multi-turn conversations carry it into the next turn). */
  readonly needsReplies: boolean
  /** The next request to send, or undefined when the workload is exhausted (a trace's end). */
  next(): WorkItem | undefined
  /** A request finished; multi-turn workloads queue the conversation's next turn with the reply in its history. */
  finished(item: WorkItem, reply: string | undefined): void
}

/** The chat messages of an item. */
export function chatMessages(item: WorkItem): ChatMessage[] {
  return [...(item.prefix ? [{ role: 'system', content: item.prefix }] : []), ...item.history, { role: 'user', content: item.prompt }]
}

/** The completions prompt of an item: its prefix, history and prompt as one text. */
export function completionPrompt(item: WorkItem): string {
  return item.prefix + item.history.map((m) => `${m.content}\n`).join('') + item.prompt
}
