import { describe, expect, it } from 'vitest';
import { readChatRequest, withoutHarnessContext } from './request.js';

describe('the script is what the user typed, not what a harness added', () => {
  it("drops OpenClaw's timestamp envelope, runtime line and internal-context blocks", () => {
    expect(withoutHarnessContext('[Thu 2026-12-03 13:18 UTC] /echo hi')).toBe('/echo hi');
    expect(withoutHarnessContext('/echo warm\n\nRuntime: agent=main | session=agent:main:x | model=semibot/mock')).toBe('/echo warm');
    expect(withoutHarnessContext('<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nActive exec sessions: none\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>')).toBe('');
    expect(withoutHarnessContext('plain [text] stays')).toBe('plain [text] stays');
  });

  it('a user message that is only injected context does not replace the real last one', () => {
    const r = readChatRequest({
      messages: [
        { role: 'user', content: [{ type: 'text', text: '[Thu 2026-12-03 13:18 UTC] /echo real' }] },
        { role: 'user', content: '<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nConversation data\n<<<END_OPENCLAW_INTERNAL_CONTEXT>>>' },
      ],
    });
    expect(r).toMatchObject({ lastUser: '/echo real' });
  });
});
