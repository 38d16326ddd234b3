import { describe, expect, it } from 'vitest';
import { planeSocketPath } from './plane-socket.js';

describe('planeSocketPath', () => {
  it('names the socket by the port, under the home', () => {
    expect(planeSocketPath('/home/u/.semibot', 8080)).toBe('/home/u/.semibot/run/planes-8080.sock');
  });

  it('gives none where sockaddr_un could not hold the path', () => {
    expect(planeSocketPath(`/tmp/${'h'.repeat(74)}`, 8080)).not.toBeNull(); // 100 bytes
    expect(planeSocketPath(`/tmp/${'h'.repeat(75)}`, 8080)).toBeNull();
  });

  it('gives none where the path would not survive as a ws+unix URL', () => {
    for (const home of ['/home/a b', '/srv/x:y', '/data/%41', '/home/ü', 'relative/home', 'C:\\semibot']) {
      expect({ home, path: planeSocketPath(home, 1) }).toEqual({ home, path: null });
    }
  });
});
