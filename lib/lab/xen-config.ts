/**
 * The `xen` part of a run's configuration: which Xen release the host follows, which XSA patches
 * it applies, whether it is a debug build, and Xen's command line. Checked up front; refused on a
 * bare-metal run (there is no Xen to set).
 */
import { LabError, describeValue, expectBoolean } from '../errors';
import { cmdline_parse } from '../xen/cmdline';
import { DEFAULT_XEN_RELEASE, XEN_PATCHES, XEN_RELEASES, xenPatchList, xenReleaseFacts, type XenPatch, type XenRelease } from '../xen/release';

/** `boot({ xen: { release, patches } })` */
export interface XenConfig {
  /** '4.2.0' (default: the domU report's banner), '4.2.2', or '4.1.5-pre' (the dom0 report's) */
  release?: XenRelease;
  /** XSA fixes to apply: 'xsa-148', 'xsa-182' (default none: no 4.1.x or 4.2.x release had them) */
  patches?: XenPatch[];
  /** a debug build (debug=y in the banner; default false) */
  debug?: boolean;
  /** Xen's command line (default ''), e.g. 'sync_console loglvl=all' */
  cmdline?: string;
}

/** The normalized `xen` keys. */
export interface NormalizedXenConfig {
  xenRelease: XenRelease;
  xenPatches: XenPatch[];
  xenDebug: boolean;
  xenCmdline: string;
}

export function normalizeXenConfig(xen: unknown, platform: string): NormalizedXenConfig {
  if (xen === undefined) return { xenRelease: DEFAULT_XEN_RELEASE, xenPatches: [], xenDebug: false, xenCmdline: '' };
  if (platform !== 'xen') {
    throw new LabError('BAD_CONFIG', `the config key "xen" applies to platform 'xen' only; this run is on ${JSON.stringify(platform)}`);
  }
  if (typeof xen !== 'object' || xen === null || Array.isArray(xen)) {
    throw new LabError('WRONG_TYPE', `xen must be an object like { release: '4.2.0', patches: ['xsa-148'] }; got ${describeValue(xen)}`);
  }
  const known = ['release', 'patches', 'debug', 'cmdline'];
  for (const key of Object.keys(xen)) {
    if (!known.includes(key)) throw new LabError('BAD_CONFIG', `unknown key ${JSON.stringify(key)} in xen; allowed: ${known.join(', ')}`);
  }
  const x = xen as { release?: unknown; patches?: unknown; debug?: unknown; cmdline?: unknown };
  const facts = xenReleaseFacts('xen.release', x.release ?? DEFAULT_XEN_RELEASE);
  const xenPatches = xenPatchList('xen.patches', x.patches);
  const xenDebug = expectBoolean('xen.debug', x.debug, true) ?? false;
  const xenCmdline = cmdline_parse('xen.cmdline', x.cmdline).cmdline;
  return { xenRelease: facts.release, xenPatches, xenDebug, xenCmdline };
}

export { XEN_RELEASES, XEN_PATCHES };
