import type { SseEvent } from '@semibot/protocol';

/**
 * A run's answer as its events build it, for clients that cannot take text back (OpenAI's chunk
 * stream only appends). Our contract: `text` appends; `step_restart {textLength}` keeps the first
 * `textLength` characters and what follows replaces the rest. `take()` hands out only what lies past
 * what was handed out before — a resumed step re-streaming text the client already has adds nothing.
 */
export class RunAnswer {
  private text = '';
  private handedOut = 0;
  tokensIn = 0;
  tokensOut = 0;
  error: { code: string; message: string } | null = null;
  status: 'completed' | 'failed' | 'cancelled' | null = null;

  add(event: SseEvent): void {
    switch (event.type) {
      case 'text':
        this.text += event.text;
        break;
      case 'step_restart':
        this.text = this.text.slice(0, event.textLength);
        break;
      case 'usage':
        this.tokensIn += event.tokensIn;
        this.tokensOut += event.tokensOut;
        break;
      case 'error':
        this.error = { code: event.code, message: event.message };
        break;
      case 'done':
        this.status = event.status;
        break;
    }
  }

  /** text not handed out yet ('' when there is none) */
  take(): string {
    if (this.text.length <= this.handedOut) return '';
    const next = this.text.slice(this.handedOut);
    this.handedOut = this.text.length;
    return next;
  }

  get answer(): string {
    return this.text;
  }
}
