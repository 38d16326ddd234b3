import type { VmMode } from '@semibot/protocol';

/** What a driver needs to start one execution plane. */
export interface PlaneSpec {
  instanceId: string;
  userId: string;
  wsUrl: string;
  /** the control plane's Unix socket (`ws+unix:`), for a plane on its host; absent: dial wsUrl */
  localWsUrl?: string | undefined;
  token: string;
  ticket: string;
  /** the plane's own directory (its disk) */
  home: string;
  logLevel: string;
}

export interface PlaneHandle {
  /** pid, container id, ... (stored in user_vm_instances.vm_id) */
  vmId: string;
  /** settles when the plane is gone, for whatever reason */
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** asks the plane to stop, then forces it */
  stop(): Promise<void>;
}

/** Starts execution planes in one VM mode. */
export interface VmDriver {
  readonly mode: VmMode;
  start(spec: PlaneSpec): Promise<PlaneHandle>;
  /** stops a plane a previous control-plane process started (found by its stored vm id), if it still runs */
  reap(vmId: string, instanceId: string): Promise<boolean>;
  /** removes planes of this driver whose instances are not among these (a driver that can list them) */
  reapAllBut?(liveInstances: Set<string>): Promise<number>;
}
