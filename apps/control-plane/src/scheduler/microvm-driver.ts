import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { writeLogLine } from '../logging.js';
import type { PlaneHandle, PlaneSpec, VmDriver } from './driver.js';
import { childPlane } from './child-plane.js';

const run = promisify(execFile);
/** QEMU's `-name` of a plane's VM: how a later control plane finds it again (reap) */
const NAME_PREFIX = 'semibot-plane-';
/** the settings disk: a few KiB of KEY=value lines, padded (the guest strips the NULs) */
const SETTINGS_BYTES = 64 * 1024;

export interface MicrovmDriverOptions {
  /** a directory with `vmlinux` and `initrd.img` (deploy/build-microvm-image.sh) */
  image: string;
  /** `kvm` (hardware virtualisation, /dev/kvm) or `tcg` (QEMU's emulator: no /dev/kvm needed, slower) */
  accel: 'kvm' | 'tcg';
  cpus: number;
  memoryMb: number;
  /** the size of each user's disk (a sparse file, made on first start) */
  diskMb: number;
  /** the QEMU binary @default qemu-system-x86_64 */
  qemu: string;
  logger: Logger;
}

/**
 * `microvm` mode: one QEMU microVM per user (`-M microvm`: no PCI, no firmware, virtio-mmio
 * devices). The guest boots the image's kernel straight into an initramfs that holds the plane's
 * root filesystem; the user's disk is an ext4 image under the plane's home on the host
 * (`<home>/disk.ext4`, /dev/vda in the guest), so a VM killed mid-turn is replaced by one that
 * mounts the same disk and resumes from the checkpoints on it. The plane dials the control plane
 * over QEMU's user-mode network, where the host's loopback is 10.0.2.2. Its credentials travel on
 * a second, read-only disk (a file only the control plane's user can read), not on a command line
 * that every local user can see. Isolation: a VM boundary — the guest has its own kernel, memory
 * and disk, and reaches the host only through the emulated devices and the NAT.
 */
export class MicrovmDriver implements VmDriver {
  readonly mode = 'microvm' as const;

  private readonly append: string;

  constructor(private readonly o: MicrovmDriverOptions) {
    this.append = ['console=ttyS0 quiet panic=-1', ...(o.accel === 'tcg' ? timingHints(o.image) : [])].join(' ');
  }

  /** What /readyz and a clear start error need: QEMU, the image, and /dev/kvm when accel is kvm. */
  async check(): Promise<string | null> {
    for (const f of ['vmlinux', 'initrd.img']) {
      if (!existsSync(path.join(this.o.image, f))) return `microvm mode: ${path.join(this.o.image, f)} not found (bash deploy/build-microvm-image.sh)`;
    }
    if (this.o.accel === 'kvm') {
      try {
        await access('/dev/kvm', constants.R_OK | constants.W_OK);
      } catch {
        return 'microvm mode: /dev/kvm is not usable here (SEMIBOT_MICROVM_ACCEL=tcg runs the VM without it, slower)';
      }
    }
    try {
      await run(this.o.qemu, ['--version']);
      return null;
    } catch {
      return `microvm mode: ${this.o.qemu} not found (apt-get install qemu-system-x86)`;
    }
  }

  async start(spec: PlaneSpec): Promise<PlaneHandle> {
    mkdirSync(spec.home, { recursive: true });
    const disk = path.join(spec.home, 'disk.ext4');
    if (!existsSync(disk)) await this.makeDisk(disk);
    const settings = path.join(spec.home, 'vm-settings.img');
    writeFileSync(settings, this.settingsOf(spec), { mode: 0o600 });
    const args = [
      '-name', `${NAME_PREFIX}${spec.instanceId},process=${NAME_PREFIX}${spec.instanceId}`,
      '-M', 'microvm,x-option-roms=off,isa-serial=on,rtc=on',
      '-accel', this.o.accel === 'kvm' ? 'kvm' : 'tcg,thread=multi',
      '-cpu', this.o.accel === 'kvm' ? 'host' : 'max',
      '-smp', String(this.o.cpus),
      '-m', String(this.o.memoryMb),
      '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
      '-serial', 'stdio',
      '-kernel', path.join(this.o.image, 'vmlinux'),
      '-initrd', path.join(this.o.image, 'initrd.img'),
      '-append', this.append,
      // QEMU locks the disk image: a second VM on the same user's disk cannot start
      '-drive', `id=disk,file=${disk},format=raw,if=none,cache=writeback,discard=unmap`,
      '-device', 'virtio-blk-device,drive=disk',
      '-drive', `id=settings,file=${settings},format=raw,if=none,readonly=on`,
      '-device', 'virtio-blk-device,drive=settings',
      '-netdev', 'user,id=net',
      '-device', 'virtio-net-device,netdev=net',
    ];
    const child = spawn(this.o.qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = this.o.logger.child({ plane: spec.instanceId, pid: child.pid });
    // The serial console carries the plane's JSON log lines (and the guest's own few messages).
    // QEMU ends the VM on SIGTERM; the plane's state is on its disk already (checkpoints are
    // written as they happen), and a turn cut short resumes on the next plane.
    const handle = childPlane(child, {
      what: 'plane VM',
      log,
      onLine: (line: string) => {
        if (line.startsWith('{')) writeLogLine(line);
        else if (line.trim()) log.info({ console: line.replace(/\r$/, '') }, 'plane VM');
      },
    });
    void handle.exited.then(() => rmSync(settings, { force: true }));
    return handle;
  }

  /** KEY=value lines; the guest reaches the host's loopback as 10.0.2.2 (QEMU user networking). */
  private settingsOf(spec: PlaneSpec): Buffer {
    const text = [
      `SEMIBOT_CONTROL_URL=${spec.wsUrl}`,
      'SEMIBOT_HOST_LOOPBACK=10.0.2.2',
      `SEMIBOT_VM_TOKEN=${spec.token}`,
      `SEMIBOT_CONNECT_TICKET=${spec.ticket}`,
      `SEMIBOT_INSTANCE_ID=${spec.instanceId}`,
      `LOG_LEVEL=${spec.logLevel}`,
      '',
    ].join('\n');
    const buf = Buffer.alloc(SETTINGS_BYTES);
    buf.write(text);
    return buf;
  }

  /** A sparse ext4 image, owned by nobody in particular: the guest's plane runs as the VM's root. */
  private async makeDisk(file: string): Promise<void> {
    writeFileSync(file, '');
    await run('truncate', ['-s', `${this.o.diskMb}M`, file]);
    await run('mkfs.ext4', ['-q', '-F', '-L', 'semibot-plane', file]);
  }

  /** Kills a VM left by a previous control plane — only if it really is that instance's. */
  async reap(vmId: string, instanceId: string): Promise<boolean> {
    const pid = Number(vmId);
    if (!Number.isInteger(pid) || pid <= 1 || instanceOf(pid) !== instanceId) return false;
    try {
      process.kill(pid, 'SIGKILL');
      return true;
    } catch {
      return false;
    }
  }

  /** VMs of planes whose instances are over (their rows ended while nobody watched). */
  async reapAllBut(liveInstances: Set<string>): Promise<number> {
    let n = 0;
    for (const entry of readdirSync('/proc')) {
      const pid = Number(entry);
      if (!Number.isInteger(pid) || pid <= 1) continue;
      const id = instanceOf(pid);
      if (!id || liveInstances.has(id)) continue;
      try {
        process.kill(pid, 'SIGKILL');
        n++;
      } catch {
        /* gone meanwhile */
      }
    }
    return n;
  }
}

/**
 * Under TCG on a busy host the guest's boot-time calibrations can starve: the fast TSC calibration
 * gives up and the delay-loop calibration then waits for timer ticks that come too slowly — we saw
 * one boot in three hang there with both cores loaded. The emulated TSC runs at the host's rate,
 * so both figures are given instead: the TSC's frequency and loops-per-jiffy at the kernel's HZ.
 */
function timingHints(image: string): string[] {
  try {
    const mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]);
    const hz = Number(readFileSync(path.join(image, 'kernel-hz'), 'utf8').trim());
    if (!(mhz > 0) || !(hz > 0)) return [];
    const khz = Math.round(mhz * 1000);
    return [`tsc_early_khz=${khz}`, `lpj=${Math.round((khz * 1000) / hz)}`];
  } catch {
    return [];
  }
}

/** The plane instance a QEMU process runs (from its `-name`), or null when it is not one of ours. */
function instanceOf(pid: number): string | null {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const i = argv.indexOf('-name');
    const name = i >= 0 ? argv[i + 1] : undefined;
    return name?.startsWith(NAME_PREFIX) ? name.slice(NAME_PREFIX.length).split(',')[0]! : null;
  } catch {
    return null;
  }
}
