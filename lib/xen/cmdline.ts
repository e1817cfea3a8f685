/**
 * Xen's own command line, as cmdline_parse reads it: whitespace-separated options, `key=value` or a
 * bare `key`; a boolean option is inverted by a `no-` prefix and by a value parse_bool reads as
 * false ("no", "off", "false", "disable", "0"). The model reads the boolean options whose effect it
 * shows: xsave (CR4.OSXSAVE), sync_console (console_init_preirq: "Console output is synchronous.", TAINT_SYNC_CONSOLE, the
 * warning block at console_endboot) and noreboot (dom0_shutdown: halt instead of rebooting).
 * // xen/common/kernel.c (cmdline_parse, parse_bool), xen/drivers/char/console.c, xen/common/shutdown.c (Xen 4.1.5-pre)
 */
import { LabError, describeValue } from '../errors';

/** The most a command line may hold (xen_commandline_t: MAX_CMDLINE 1024). */
export const MAX_XEN_CMDLINE = 1024;

/** The boolean options the model reads, with their values after the whole line. */
export interface XenBootOptions {
  /** the line itself (saved_cmdline) */
  cmdline: string;
  /** opt_sync_console */
  sync_console: boolean;
  /** opt_noreboot */
  noreboot: boolean;
  /** use_xsave when the line sets it, else null (the release's default) */
  xsave: boolean | null;
}

const BOOLEANS = ['sync_console', 'noreboot', 'xsave'] as const;

// xen/common/kernel.c (Xen 4.1.5-pre): 0 for the words that mean false, else 1
export function parse_bool(s: string): number {
  return ['no', 'off', 'false', 'disable', '0'].includes(s) ? 0 : 1;
}

// xen/common/kernel.c (Xen 4.1.5-pre): the options in order, a later one overriding an earlier one
export function cmdline_parse(where: string, cmdline: unknown): XenBootOptions {
  if (cmdline === undefined) cmdline = '';
  if (typeof cmdline !== 'string') {
    throw new LabError('WRONG_TYPE', `${where} must be a string like 'sync_console loglvl=all'; got ${describeValue(cmdline)}`);
  }
  if (cmdline.length >= MAX_XEN_CMDLINE || /[^\x20-\x7e]/.test(cmdline)) {
    throw new LabError('BAD_CONFIG', `${where} must be printable ASCII shorter than ${MAX_XEN_CMDLINE} characters; got ${describeValue(cmdline)}`);
  }
  const out: XenBootOptions = { cmdline, sync_console: false, noreboot: false, xsave: null };
  for (const opt of cmdline.split(' ')) {
    if (opt === '') continue;
    const eq = opt.indexOf('=');
    let key = eq < 0 ? opt : opt.slice(0, eq);
    const val = eq < 0 ? '' : opt.slice(eq + 1);
    let assert = !key.startsWith('no-');
    if (!assert) key = key.slice(3);
    const name = BOOLEANS.find((b) => b === key);
    if (name === undefined) continue;
    if (parse_bool(val) === 0) assert = !assert;
    out[name] = assert;
  }
  return out;
}
