import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api, tokenStore } from './api.js';
import type { AuthResult, Org, User } from './types.js';

interface AuthState {
  token: string | null;
  me: { user: User; org: Org } | undefined;
  /** the user signed out themselves (not an expired token): no page to return to after signing in */
  signedOutByUser: boolean;
  signedIn(result: AuthResult): void;
  signOut(): void;
}

const AuthContext = createContext<AuthState | null>(null);

/** The JWT lives in localStorage (it survives reloads); every view reads it through this context. */
export function AuthProvider({ children }: { children: ReactNode }) {
  const [token, setToken] = useState(tokenStore.get);
  const [signedOutByUser, setSignedOutByUser] = useState(false);
  const qc = useQueryClient();
  useEffect(() => tokenStore.subscribe(setToken), []);
  const me = useQuery({
    queryKey: ['me', token],
    queryFn: () => api<{ user: User; org: Org }>('GET', '/auth/me'),
    enabled: token !== null,
    staleTime: 5 * 60_000,
  });
  const value: AuthState = {
    token,
    me: me.data,
    signedOutByUser,
    signedIn(result) {
      setSignedOutByUser(false);
      qc.clear(); // nothing of a previous account may show for the next one
      tokenStore.set(result.token);
    },
    signOut() {
      setSignedOutByUser(true);
      tokenStore.set(null);
      qc.clear();
    },
  };
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error('useAuth outside AuthProvider');
  return ctx;
}
