import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { Link, Navigate, useLocation, useNavigate } from 'react-router';
import { api, errorOf } from '../../lib/api.js';
import { useAuth } from '../../lib/auth.js';
import type { AuthResult } from '../../lib/types.js';
import { Button } from '../../components/ui/Button.js';
import { TextField } from '../../components/ui/Field.js';
import { ErrorNotice } from '../../components/ui/ErrorNotice.js';
import { ThemeToggle } from '../../components/layout/ThemeToggle.js';

/** Sign in and sign up share one form: the API's error (EMAIL_TAKEN, INVALID_CREDENTIALS...) shows inline. */
export function AuthPage({ mode }: { mode: 'signin' | 'signup' }) {
  const { token, signedIn } = useAuth();
  const navigate = useNavigate();
  const from = (useLocation().state as { from?: string } | null)?.from ?? '/agents';
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [name, setName] = useState('');
  const signup = mode === 'signup';
  const submit = useMutation({
    mutationFn: () =>
      signup
        ? api<AuthResult>('POST', '/auth/register', { email, password, ...(name ? { name } : {}) })
        : api<AuthResult>('POST', '/auth/login', { email, password }),
    onSuccess: (r) => {
      signedIn(r);
      navigate(signup ? '/agents/new' : from, { replace: true });
    },
  });
  // already signed in (a reload of /signin); after a submit, onSuccess decides where to go
  if (token && submit.isIdle) return <Navigate to={from} replace />;
  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    submit.mutate();
  };
  return (
    <div className="relative grid min-h-dvh place-items-center bg-gradient-to-br from-indigo-50 via-zinc-50 to-zinc-100 px-4 dark:from-zinc-950 dark:via-zinc-950 dark:to-indigo-950/40">
      <div className="absolute top-4 right-4">
        <ThemeToggle />
      </div>
      <div className="w-full max-w-sm">
        <div className="mb-6 flex items-center gap-2.5">
          <div className="grid size-9 place-items-center rounded-xl bg-indigo-600 font-bold text-white shadow-lg shadow-indigo-600/30" aria-hidden>
            S
          </div>
          <div>
            <p className="text-lg font-semibold tracking-tight">Semibot</p>
            <p className="text-xs text-zinc-500">Agents that run on their own execution plane</p>
          </div>
        </div>
        <form onSubmit={onSubmit} className="space-y-4 rounded-2xl border border-zinc-200 bg-white p-6 shadow-sm dark:border-zinc-800 dark:bg-zinc-900" aria-labelledby="auth-title">
          <h1 id="auth-title" className="text-base font-semibold">
            {signup ? 'Create your account' : 'Sign in'}
          </h1>
          {signup && <TextField label="Name" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />}
          <TextField label="Email" type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          <TextField
            label="Password"
            type="password"
            autoComplete={signup ? 'new-password' : 'current-password'}
            required
            minLength={signup ? 8 : undefined}
            hint={signup ? 'At least 8 characters.' : undefined}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          {submit.error && <ErrorNotice error={errorOf(submit.error)} />}
          <Button type="submit" variant="primary" className="w-full" disabled={submit.isPending}>
            {submit.isPending ? 'Please wait…' : signup ? 'Create account' : 'Sign in'}
          </Button>
          <p className="text-center text-sm text-zinc-500">
            {signup ? 'Already have an account? ' : 'New to Semibot? '}
            <Link className="font-medium text-indigo-600 hover:underline dark:text-indigo-400" to={signup ? '/signin' : '/signup'}>
              {signup ? 'Sign in' : 'Create an account'}
            </Link>
          </p>
        </form>
      </div>
    </div>
  );
}
