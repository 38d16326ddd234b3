import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, type JWTPayload } from 'jose';

/** Who is calling: every store call is scoped by these. */
export interface Principal {
  userId: string;
  orgId: string;
}
export interface VmPrincipal extends Principal {
  instanceId: string;
  /** set for a plane of the shared pool: then userId and orgId are empty (it serves many of each) */
  pool?: string;
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

  /**
   * A pool plane's credential (minted by the operator: `semibot-pool-token`): long-lived, naming the
   * pool and the plane. It reaches only the sessions the control plane assigns to that plane.
   */
  signPool(p: { pool: string; instanceId: string }, ttlS: number): Promise<string> {
    return new SignJWT({ org: '', pool: p.pool, inst: p.instanceId, typ: 'pool' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(p.instanceId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${ttlS}s`)
      .sign(this.secret);
  }

  async verifyPool(token: string): Promise<VmPrincipal | null> {
    const claims = await this.verify(token, 'pool');
    return claims && typeof claims.pool === 'string' && typeof claims.inst === 'string'
      ? { userId: '', orgId: '', instanceId: claims.inst, pool: claims.pool }
      : null;
  }

  async verifyUser(token: string): Promise<Principal | null> {
    const claims = await this.verify(token, 'user');
    return claims ? { userId: claims.sub, orgId: claims.org } : null;
  }

  async verifyVm(token: string): Promise<VmPrincipal | null> {
    const claims = await this.verify(token, 'vm');
    return claims && typeof claims.inst === 'string' ? { userId: claims.sub, orgId: claims.org, instanceId: claims.inst } : null;
  }

  /**
   * Tokens already verified, until they expire: a JWT cannot change, and WebCrypto's HMAC check
   * costs ~0.3 ms (a thread-pool round trip) on every request otherwise. Bounded; cleared when full.
   */
  private readonly verified = new Map<string, { claims: Claims; expiresAtMs: number }>();

  private async verify(token: string, typ: 'user' | 'vm' | 'pool'): Promise<Claims | null> {
    const hit = this.verified.get(token);
    if (hit && hit.expiresAtMs > Date.now()) return hit.claims.typ === typ ? hit.claims : null;
    const claims = await this.verifyUncached(token, typ);
    if (claims && typeof claims.exp === 'number') {
      if (this.verified.size >= 10_000) this.verified.clear();
      this.verified.set(token, { claims, expiresAtMs: claims.exp * 1000 });
    }
    return claims;
  }

  private async verifyUncached(token: string, typ: 'user' | 'vm' | 'pool'): Promise<Claims | null> {
    try {
      const { payload } = await jwtVerify(token, this.secret, { issuer: ISSUER, algorithms: ['HS256'] });
      if (payload.typ !== typ || typeof payload.sub !== 'string' || typeof payload.org !== 'string') return null;
      return payload as Claims;
    } catch {
      return null;
    }
  }
}

type Claims = JWTPayload & { sub: string; org: string; typ: string; inst?: unknown; pool?: unknown };

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
