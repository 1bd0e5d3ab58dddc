// systemd readiness (sd_notify(3)): when NOTIFY_SOCKET is set, msnld sends READY=1 once its
// control socket answers and ms0..ms3 exist, RELOADING=1/READY=1 around a SIGHUP reconcile and
// STOPPING=1 on the way out. The datagram goes through the addon (node has no AF_UNIX datagrams);
// the sender is injected so tests need neither systemd nor the addon.

export type DatagramSender = (socketPath: string, message: string) => void;

export interface Notifier {
  /** Sends one notification (KEY=VALUE lines); errors go to `onError`, never thrown. */
  send(fields: Readonly<Record<string, string | number>>): void;
}

/**
 * A notifier for $NOTIFY_SOCKET, or undefined when msnld does not run under Type=notify.
 * The variable is removed from the environment so that no child inherits it (as
 * sd_notify(3)'s unset_environment does).
 */
export function notifierFromEnv(env: NodeJS.ProcessEnv, sendTo: DatagramSender, onError: (message: string) => void): Notifier | undefined {
  const socketPath = env.NOTIFY_SOCKET;
  if (socketPath === undefined || socketPath === '') return undefined;
  delete env.NOTIFY_SOCKET;
  return {
    send(fields) {
      const message = Object.entries(fields)
        .map(([key, value]) => `${key}=${String(value).replace(/\n/g, ' ')}`)
        .join('\n');
      try {
        sendTo(socketPath, message);
      } catch (error) {
        onError(`failed to notify systemd at ${socketPath}: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  };
}
