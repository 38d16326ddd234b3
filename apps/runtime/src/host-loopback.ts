/**
 * A plane in a VM reaches the host through an address of its virtual network (QEMU's user-mode
 * network: 10.0.2.2), while the URLs the control plane hands out name the host's loopback, which
 * inside the guest is the guest itself. Given that address (SEMIBOT_HOST_LOOPBACK), loopback URLs
 * are pointed at it; any other URL, or no address, leaves the URL as it is.
 */
export function viaHostLoopback(url: string, hostLoopback: string | undefined): string {
  if (!hostLoopback) return url;
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host !== 'localhost' && host !== '::1' && !/^127\.\d+\.\d+\.\d+$/.test(host)) return url;
  u.hostname = hostLoopback;
  // URL keeps a trailing slash on a bare origin; give back the path as it came
  const out = u.toString();
  return url.endsWith('/') || u.pathname !== '/' ? out : out.replace(/\/$/, '');
}
