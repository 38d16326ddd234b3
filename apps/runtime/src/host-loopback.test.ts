import { describe, expect, it } from 'vitest';
import { viaHostLoopback } from './host-loopback.js';

describe('viaHostLoopback', () => {
  it('points loopback URLs at the host address, keeping port, path and query', () => {
    expect(viaHostLoopback('ws://127.0.0.1:8080/ws/vm', '10.0.2.2')).toBe('ws://10.0.2.2:8080/ws/vm');
    expect(viaHostLoopback('http://localhost:4000/v1', '10.0.2.2')).toBe('http://10.0.2.2:4000/v1');
    expect(viaHostLoopback('http://[::1]:4000/v1?x=1', '10.0.2.2')).toBe('http://10.0.2.2:4000/v1?x=1');
    expect(viaHostLoopback('http://127.3.4.5:9', '10.0.2.2')).toBe('http://10.0.2.2:9');
    expect(viaHostLoopback('http://127.0.0.1:9/', '10.0.2.2')).toBe('http://10.0.2.2:9/');
  });
  it('leaves other hosts, and everything when no address is given', () => {
    expect(viaHostLoopback('https://api.openai.com/v1', '10.0.2.2')).toBe('https://api.openai.com/v1');
    expect(viaHostLoopback('http://127.0.0.1.example.com/v1', '10.0.2.2')).toBe('http://127.0.0.1.example.com/v1');
    expect(viaHostLoopback('ws://127.0.0.1:8080/ws/vm', undefined)).toBe('ws://127.0.0.1:8080/ws/vm');
  });
});
