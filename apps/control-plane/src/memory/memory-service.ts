import type { Logger } from 'pino';
import type { Embedder } from '@semibot/llm';
import type { MemoryHit } from '@semibot/protocol';
import type { Db } from '../db/db.js';
import { insertMemory, searchMemories, setEmbedding, vectorSearch, type Memory } from '../store/memories.js';

/** Reciprocal-rank-fusion constant: the usual 60 keeps one list's top hit from drowning the other. */
const RRF_K = 60;

/**
 * Long-term memory: Postgres full-text search always, plus vector similarity when an embedding
 * model is configured; the two rankings are fused (reciprocal rank fusion). A failing embedding
 * model degrades search to full text, never fails a save.
 */
export class MemoryService {
  private embedder: Embedder | null = null;

  /** `embedder` may be a factory, so the LLM SDK loads only when memory is first used. */
  constructor(
    private readonly db: Db,
    private readonly makeEmbedder: Embedder | (() => Promise<Embedder>) | null,
    private readonly logger: Logger,
  ) {}

  get vectors(): boolean {
    return this.makeEmbedder !== null;
  }

  async save(m: Parameters<typeof insertMemory>[1]): Promise<Memory> {
    const memory = await insertMemory(this.db, m);
    const vector = await this.embed(m.content);
    if (vector) await setEmbedding(this.db, memory.id, vector, this.embedder!.model);
    return memory;
  }

  async search(s: { orgId: string; userId: string; agentId?: string | undefined; query: string; limit: number }): Promise<MemoryHit[]> {
    const [text, vector] = await Promise.all([searchMemories(this.db, { ...s, limit: s.limit * 2 }), this.embed(s.query)]);
    if (!vector) return text.slice(0, s.limit);
    const similar = await vectorSearch(this.db, { ...s, vector, model: this.embedder!.model, limit: s.limit * 2 });
    const fused = new Map<string, MemoryHit>();
    for (const list of [text, similar]) {
      list.forEach((hit, rank) => {
        const prev = fused.get(hit.id);
        fused.set(hit.id, { ...hit, score: (prev?.score ?? 0) + 1 / (RRF_K + rank + 1) });
      });
    }
    return [...fused.values()].sort((a, b) => b.score - a.score).slice(0, s.limit);
  }

  private async embed(text: string): Promise<number[] | null> {
    if (!this.makeEmbedder) return null;
    this.embedder ??= typeof this.makeEmbedder === 'function' ? await this.makeEmbedder() : this.makeEmbedder;
    try {
      const [v] = await this.embedder.embed([text]);
      if (!v || v.length === 0) return null;
      const norm = Math.hypot(...v) || 1;
      return v.map((x) => x / norm);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'embedding failed; memory search falls back to full text');
      return null;
    }
  }
}
