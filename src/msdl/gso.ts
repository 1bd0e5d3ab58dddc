// When a UDP GSO send is refused, is GSO the problem? The addon sends a refused run plainly and
// reports the errno; this pure rule decides whether segmentation goes off (wireguard-go turns it off
// for good on EIO from udp_send_skb only). Only errnos that speak of segmentation count:
//   EIO, EOPNOTSUPP, ENOPROTOOPT  the route or driver cannot segment (no checksum offload, xfrm):
//                                 off at once
//   EMSGSIZE, EINVAL              segments that do not fit the path MTU (EMSGSIZE is what a veth
//                                 says to 2000-octet segments) or a socket that cannot segment:
//                                 off after MAX_SUSPECT_GSO_FAILURES of them
// Everything else (ENETUNREACH, ENETDOWN, EHOSTUNREACH, EPERM, ENOBUFS, EAGAIN, ...) says nothing
// about segmentation, only about the path right now, so a link flap leaves GSO on.
import { errnoName } from '../abi/errno.js';

export type GsoFailure = 'unsupported' | 'suspect' | 'unrelated';

/** Refused GSO sends with EINVAL or EMSGSIZE before segmentation goes off. */
export const MAX_SUSPECT_GSO_FAILURES = 8;

/** What a refused GSO send's (positive) errno says about segmentation. */
export function classifyGsoFailure(errno: number): GsoFailure {
  switch (errnoName(errno)) {
    case 'EIO':
    case 'EOPNOTSUPP':
    case 'ENOPROTOOPT':
      return 'unsupported';
    case 'EINVAL':
    case 'EMSGSIZE':
      return 'suspect';
    default:
      return 'unrelated';
  }
}

/** The running tally of one socket: refused(errno) says whether to turn segmentation off now. */
export class GsoPolicy {
  private suspects = 0;

  refused(errno: number): boolean {
    const kind = classifyGsoFailure(errno);
    if (kind === 'unsupported') return true;
    if (kind === 'suspect') return ++this.suspects >= MAX_SUSPECT_GSO_FAILURES;
    return false;
  }
}
