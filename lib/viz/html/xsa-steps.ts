/**
 * An XSA scenario's steps as a table: what the guest did, whether it asked Xen (and Xen's answer
 * with the lines it printed) or just stored to memory, and which invariants were broken after
 * each step. Plain HTML with inline styles: readable without scripts and at phone width.
 */
import type { XsaResult } from '../../lab/xsa/scenario';
import { escapeHtml as e } from './escape';
import { STYLE, htmlView, type HtmlView } from './view';

const ERRNO: Record<number, string> = { 0: '0 (done)', [-1]: '-EPERM', [-14]: '-EFAULT', [-16]: '-EBUSY', [-22]: '-EINVAL' };
const answer = (r: number | null): string => (r === null ? 'not asked' : ERRNO[r] ?? String(r));

/** The bytes of a little-endian qword as text, when they are all printable ASCII. */
function asText(hex16: string): string | null {
  const bytes = hex16.match(/../g)?.reverse().map((b) => parseInt(b, 16)) ?? [];
  return bytes.every((b) => b >= 0x20 && b < 0x7f) ? String.fromCharCode(...bytes) : null;
}

export function xsaStepsView(r: XsaResult): HtmlView {
  const title = `${r.id.toUpperCase()} on Xen 4.2.0 ${r.patched ? 'with the fix' : 'as released'}: ${r.accepted ? 'accepted' : `refused (${answer(r.errorCode)})`}`;
  // One block per step whose three parts sit side by side when there is room and stack on a
  // phone (flex-wrap): no table to overflow or squeeze.
  const part = (label: string, body: string, basis: string): string =>
    `<div style="flex:1 1 ${basis};min-width:0"><div style="${STYLE.muted};font-size:11px">${label}</div>${body}</div>`;
  const rows = r.steps.map((s, i) => {
    const xen = s.xen.length === 0 ? '' : `<div style="${STYLE.mono};${STYLE.muted};overflow-wrap:anywhere">${s.xen.map(e).join('<br>')}</div>`;
    const got = s.value === undefined ? '' : `<div style="${STYLE.mono};overflow-wrap:anywhere">${e(s.va ?? '')}: ${e(s.value)}</div>`;
    const asked = s.call === null
      ? `<span style="${STYLE.muted}">not asked (a plain ${s.access === 'read' ? 'load' : 'store'})</span>`
      : `${e(s.call)} &rarr; <b>${e(answer(s.result))}</b>`;
    const inv = s.violations.length === 0
      ? `<span style="${STYLE.good}">both hold</span>`
      : `<span style="${STYLE.bad}">broken:</span><ul style="margin:2px 0 0 16px;padding:0">${s.violations.map((v) => `<li>${e(v)}</li>`).join('')}</ul>`;
    return `<div style="display:flex;flex-wrap:wrap;gap:4px 16px;padding:6px 0;border-bottom:1px solid #eef">` +
      part(`step ${i + 1}: the guest`, `${e(s.action)}${got}`, '320px') + part('Xen', `${asked}${xen}`, '180px') +
      part('invariants after', inv, '260px') + '</div>';
  }).join('');
  const html = `<div style="${STYLE.box}"><div style="${STYLE.heading}">${e(title)}</div>${rows}` +
    (r.stolen === null ? '' : `<div style="margin-top:6px">The guest read <code style="${STYLE.mono}">${e(r.stolen)}</code>` +
      `${asText(r.stolen) === null ? '' : ` (the bytes &ldquo;${e(asText(r.stolen) ?? '')}&rdquo;)`} from a page of domain 2.</div>`) + '</div>';
  const text = [title, ...r.steps.map((s, i) => `${i + 1}. ${s.action} -> ${answer(s.result)}${s.xen.length ? ` [${s.xen.join(' | ')}]` : ''}` +
    `${s.value !== undefined ? ` ${s.va}: ${s.value}` : ''}; invariants: ${s.violations.length === 0 ? 'hold' : s.violations.join('; ')}`)].join('\n');
  return htmlView(title, html, text);
}
