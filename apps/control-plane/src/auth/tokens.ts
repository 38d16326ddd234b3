import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';

/** Who is calling: every store call is scoped by these. */
export interface Principal {
  userId: string;
  orgId: string;
}
export interface VmPrincipal extends Principal {
  instanceId: string;
}

const ISSUER = 'semibot';

/** Signs and checks our JWTs (HS256). `typ` keeps a plane's token from opening the user API and back. */
export class Tokens {
  constructor(
    private readonly secret: Uint8Array,
    private readonly ttl: { userS: number; vmS: number },
  ) {}

  signUser(p: Principal): Promise<string> {
    return new SignJWT({ org: p.orgId, typ: 'user' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(p.userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.ttl.userS}s`)
      .sign(this.secret);
  }

  signVm(p: VmPrincipal): Promise<string> {
    return new SignJWT({ org: p.orgId, inst: p.instanceId, typ: 'vm' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(p.userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.ttl.vmS}s`)
      .sign(this.secret);
  }

  async verifyUser(token: string): Promise<Principal | null> {
    const claims = await this.verify(token, 'user');
    return claims ? { userId: claims.sub, orgId: claims.org } : null;
  }

  async verifyVm(token: string): Promise<VmPrincipal | null> {
    const claims = await this.verify(token, 'vm');
    return claims && typeof claims.inst === 'string' ? { userId: claims.sub, orgId: claims.org, instanceId: claims.inst } : null;
  }

  private async verify(token: string, typ: 'user' | 'vm') {
    try {
      const { payload } = await jwtVerify(token, this.secret, { issuer: ISSUER, algorithms: ['HS256'] });
      if (payload.typ !== typ || typeof payload.sub !== 'string' || typeof payload.org !== 'string') return null;
      return payload as typeof payload & { sub: string; org: string; inst?: unknown };
    } catch {
      return null;
    }
  }
}

export const API_KEY_PREFIX = 'sbk_';

export function newApiKey(): { key: string; hash: string; prefix: string } {
  const key = API_KEY_PREFIX + randomBytes(24).toString('base64url');
  return { key, hash: sha256(key), prefix: key.slice(0, 10) };
}

/** One-time connect tickets: only their hash is stored. */
export function newTicket(): { ticket: string; hash: string } {
  const ticket = randomBytes(24).toString('base64url');
  return { ticket, hash: sha256(ticket) };
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}
