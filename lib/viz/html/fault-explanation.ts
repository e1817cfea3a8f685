/**
 * A page fault explained (run.explainFault()): the hardware walk drawn as the page-walk view draws
 * it, then Xen's side of the walk, the trap table Xen held and why the fault was or was not
 * bounced; on bare metal, the IDT entry and the early handler's decision.
 */
import { LabError, describeValue } from '../../errors';
import type { FaultExplanation } from '../../lab/time-travel/fault-explanation';
import { escapeHtml as e } from './escape';
import { pageWalkView } from './page-walk';
import { STYLE, htmlView, type HtmlView } from './view';

export function faultExplanationView(x: FaultExplanation): HtmlView {
  if (typeof x !== 'object' || x === null || typeof x.text !== 'string' || typeof x.walk !== 'object') {
    throw new LabError('WRONG_TYPE', `faultExplanationView takes what run.explainFault() returns; got ${describeValue(x)}`);
  }
  const walk = pageWalkView({ result: x.walk, address: x.address, access: x.access });
  const html: string[] = [`<div class="pvops-fault" style="${STYLE.box}">`];
  html.push(`<div style="${STYLE.heading}">Page fault at <span style="${STYLE.mono}">${e(x.address)}</span> ` +
    `(error code ${e(x.errorCode.toString(16).padStart(4, '0'))}) in step ${x.step}, <span style="${STYLE.mono}">${e(x.routine)}</span></div>`);
  html.push(`<div style="${STYLE.muted}">${e(x.callChain.join(' › '))}</div>`);
  html.push(walk.html);
  if (x.xen !== null) {
    html.push(`<div style="${STYLE.heading}">Xen's side of the walk (d${x.xen.domid}:v0)</div>`);
    html.push(`<table style="${STYLE.table}"><tr>${['level', 'entry', 'M2P of its frame', 'table mfn', 'page type', 'type count', 'ref count', 'pinned']
      .map((h) => `<th style="${STYLE.th}">${e(h)}</th>`).join('')}</tr>`);
    for (const l of x.xen.levels) {
      const cells = [`L${l.level}[0x${l.index.toString(16).padStart(3, '0')}]`, l.entry, l.m2p, l.tableMfn.toString(16), l.tableType, String(l.typeCount), String(l.refCount), l.pinned ? 'yes' : 'no'];
      html.push(`<tr>${cells.map((c, i) => `<td style="${STYLE.td}${i < 4 ? `;${STYLE.mono}` : ''}">${e(c)}</td>`).join('')}</tr>`);
    }
    html.push('</table>');
    html.push(`<div style="${STYLE.heading}">Trap table Xen held</div>`);
    html.push(x.xen.trapTable.length === 0
      ? `<div style="${STYLE.muted}">empty: the guest has made no set_trap_table yet</div>`
      : `<div style="${STYLE.mono}">${x.xen.trapTable.map((t) => e(`${t.vector}: ${t.symbol} (${t.address})`)).join('<br>')}</div>`);
    html.push(`<div style="${x.xen.bounced ? STYLE.good : STYLE.bad};margin-top:6px">${x.xen.bounced ? 'Bounced' : 'Not bounced'}: ${e(x.xen.why)}</div>`);
  }
  if (x.bareMetal !== null) {
    html.push(`<div style="${STYLE.heading}">IDT[14]</div><div>${e(x.bareMetal.idtEntry)}</div>`);
    html.push(`<div style="${STYLE.heading}">The handler's decision</div><div>${e(x.bareMetal.decision)}</div>`);
  }
  html.push('</div>');
  return htmlView(`Page fault at ${x.address}`, html.join(''), x.text);
}
