// Applies the stored configuration of the tunnel interfaces (address, admin state) to the kernel,
// remembering what it applied so that only changes, or a forced reload, touch the devices.

import { formatDottedQuad } from '../abi/inet.js';
import { causeOf, type Logger } from '../base/logger.js';
import type { InterfaceConfig } from '../store/types.js';
import type { TunDevice } from '../tun/device.js';

interface AppliedInterface {
  readonly address: number | null;
  readonly prefixLength: number | null;
  readonly adminUp: boolean;
}

export class InterfaceConfigurator {
  private readonly applied = new Map<string, AppliedInterface>();

  constructor(private readonly log: Logger) {}

  /**
   * Applies one interface's stored state to the kernel. An interface is msnl's when the database
   * gives it an address or stores it up; one that is neither (the default) belongs to ip(8) and
   * is never touched, except to carry out an msnl edit that hands it back (delete, down). msnl's
   * interfaces get the stored state at start, on reload (`force`) and when it changes; in between,
   * changes made with ip(8) stay (msnl ifconfig shows them beside the stored state), and when
   * msnld does override the kernel it logs what the kernel had.
   */
  apply(device: TunDevice | undefined, cfg: InterfaceConfig, force: boolean): void {
    if (device === undefined) return;
    const last = this.applied.get(cfg.name);
    const want: AppliedInterface = { address: cfg.address, prefixLength: cfg.prefixLength, adminUp: cfg.adminUp };
    const changed = last === undefined || last.address !== want.address || last.prefixLength !== want.prefixLength || last.adminUp !== want.adminUp;
    if (!force && !changed) return;
    const managed = (s: AppliedInterface | undefined): boolean => s !== undefined && (s.address !== null || s.adminUp);
    if (!managed(want) && !(changed && managed(last))) {
      this.applied.set(cfg.name, want);
      return;
    }
    const log = this.log;
    try {
      const actual = device.getAddress();
      if (want.address !== null && want.prefixLength !== null) {
        if (actual?.address !== want.address || actual.prefixLength !== want.prefixLength) {
          const stored = `${formatDottedQuad(want.address)}/${want.prefixLength}`;
          if (actual !== undefined) log.info(`${cfg.name}: replacing the kernel's address ${formatDottedQuad(actual.address)}/${actual.prefixLength} with the stored ${stored}`);
          device.setAddress(want.address, want.prefixLength);
        }
      } else if (changed && last !== undefined && last.address !== null && actual !== undefined) {
        device.removeAddress();
      }
      if (want.adminUp !== device.isUp()) {
        if (!changed) log.info(`${cfg.name}: setting the interface ${want.adminUp ? 'up' : 'down'} as stored (it was set ${want.adminUp ? 'down' : 'up'} outside msnl)`);
        device.setUp(want.adminUp);
      }
      this.applied.set(cfg.name, want);
    } catch (error) {
      log.error(`failed to configure ${cfg.name}: ${causeOf(error)}`);
    }
  }
}
