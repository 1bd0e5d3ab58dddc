// Errors of the TUN layer: each names the device and the cause, never a bare errno. Pure: turns the
// addon's { errno, syscall } into text an operator can act on.
import { sysErrorOf } from '../abi/errno.js';

export class TunError extends Error {
  constructor(
    message: string,
    /** The interface the operation was about. */
    readonly ifname: string,
    /** errno name such as EPERM, or undefined when the error is not a system error. */
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'TunError';
  }
}

/**
 * Wraps an addon error (or a negative errno from the data path). `action` says what was being done,
 * in the `failed to <action>` form: 'create', 'set MTU 1500', 'read', ...
 */
export function tunError(ifname: string, action: string, cause: unknown): TunError {
  const sys = sysErrorOf(cause);
  const code = sys.code;
  if (code === undefined) return new TunError(`${ifname}: failed to ${action}: ${sys.message ?? String(cause)}`, ifname, undefined);
  const creating = action === 'create';
  if ((code === 'EPERM' || code === 'EACCES') && creating) {
    return new TunError(`creating ${ifname} needs CAP_NET_ADMIN (run as root)`, ifname, code);
  }
  if (code === 'EPERM' || code === 'EACCES') {
    return new TunError(`${ifname}: failed to ${action}: needs CAP_NET_ADMIN (run as root)`, ifname, code);
  }
  if (code === 'EBUSY' && creating) return new TunError(`${ifname}: device busy`, ifname, code);
  if ((code === 'ENOENT' || code === 'ENODEV' || code === 'ENXIO') && creating && sys.syscall === 'open /dev/net/tun') {
    return new TunError(`creating ${ifname} needs /dev/net/tun (load the tun module: modprobe tun)`, ifname, code);
  }
  if (code === 'EINVAL' && creating) {
    return new TunError(`${ifname}: failed to create: an interface of that name exists and is not a TUN device`, ifname, code);
  }
  if (code === 'ENODEV') return new TunError(`${ifname}: failed to ${action}: no such interface`, ifname, code);
  if (code === 'EBADFD') return new TunError(`${ifname}: failed to ${action}: the device was removed`, ifname, code);
  const text = sys.message !== undefined && sys.message !== '' ? sys.message : code;
  const via = sys.syscall !== undefined ? ` (${sys.syscall})` : '';
  return new TunError(`${ifname}: failed to ${action}: ${text} [${code}]${via}`, ifname, code);
}
