/**
 * The page-table explorer: an address space as a collapsible tree (<details> per table entry:
 * L4 slot, L3, L2; runs of L1 or large-page leaves as lines), with the region each range starts
 * in (shown where it changes from the parent's) and the Xen page type of each frame pointed to.
 */
import type { PhysicalMemory } from '../../x86/physical-memory';
import { escapeHtml as e } from './escape';
import { buildPageTableTree, type PageTableTree, type PageTableTreeOptions, type PtNode } from './page-table-tree';
import { STYLE, htmlView, type HtmlView } from './view';

const SHORT = ['', 'L1', 'L2', 'L3', 'L4'];
const SIZE = (bytes: number): string => (bytes >= 2 ** 30 ? `${bytes / 2 ** 30} GiB` : bytes >= 2 ** 20 ? `${bytes / 2 ** 20} MiB` : `${bytes / 1024} KiB`);
const hex = (n: number): string => `0x${n.toString(16)}`;
const MUTED = 'color:#5a6270';
/** Lines of text/plain kept before "…". */
const TEXT_LINES = 400;

/** The explorer of the tables reachable from `pml4` in `mem`. */
export function pageTableExplorer(mem: PhysicalMemory, pml4: bigint | string, options: PageTableTreeOptions = {}): HtmlView {
  return pageTableTreeView(buildPageTableTree(mem, pml4, options));
}

/** The explorer of a tree built by buildPageTableTree. */
export function pageTableTreeView(tree: PageTableTree): HtmlView {
  const title = `Page tables from the PML4 at ${hex(tree.pml4)}`;
  const summary = `${tree.tables} table page${tree.tables === 1 ? '' : 's'}, ${tree.presentEntries} present entries` +
    `${tree.truncated ? `; stopped after ${tree.nodes} nodes (raise maxNodes to see more)` : ''}`;
  const html: string[] = [`<div class="pvops-explorer" style="${STYLE.box}">`,
    `<div style="${STYLE.heading}">${e(title)} (frame ${hex(tree.pml4 / 4096)}${tree.pml4Type === undefined ? '' : `, Xen type ${e(tree.pml4Type)}`})</div>`,
    `<div style="${STYLE.muted}">${e(summary)}. Click a line to open it.</div>`];
  const text: string[] = [`${title}${tree.pml4Type === undefined ? '' : ` (${tree.pml4Type})`}: ${summary}`];
  if (tree.roots.length === 0) html.push(`<div style="${STYLE.muted}">No present entries: every address faults at the PML4.</div>`);
  // The tree in one monospace block, so each of its (possibly thousands of) lines stays short.
  html.push(`<div class="pvops-pt-tree" style="${STYLE.mono};font-size:12px">`);
  for (const node of tree.roots) renderNode(node, undefined, html, text, 1);
  html.push('</div></div>');
  if (text.length > TEXT_LINES) text.splice(TEXT_LINES, text.length - TEXT_LINES, `… (${text.length - TEXT_LINES} more lines)`);
  return htmlView(title, html.join(''), text.join('\n'));
}

function label(node: PtNode, parentRegion: string | undefined): { head: string; tail: string } {
  const idx = node.first === node.last ? `${SHORT[node.level]}[${hex(node.first)}]` : `${SHORT[node.level]}[${hex(node.first)}–${hex(node.last)}]`;
  const count = node.last - node.first + 1;
  const region = node.region !== undefined && node.region !== parentRegion ? ` · ${node.region}` : '';
  const type = node.pageType === undefined ? '' : ` (${node.pageType})`;
  let target: string;
  if (node.loopsTo !== undefined) target = `→ frame ${hex(node.frame)}${type}, the ${SHORT[node.loopsTo]} table above: a recursive (linear) page-table mapping, not expanded again`;
  else if (!node.leaf) target = `→ ${SHORT[node.level - 1]} table, frame ${hex(node.frame)}${type}`;
  else if (count === 1) target = `→ ${SIZE(node.pageSize)} page, frame ${hex(node.frame)}${type}`;
  else {
    const lastFrame = node.frame + (count - 1) * (node.pageSize / 4096);
    target = `→ ${count} × ${SIZE(node.pageSize)} pages, frames ${hex(node.frame)}–${hex(lastFrame)}${type}`;
  }
  return { head: `${idx} ${node.start}–${node.end}${region}`, tail: `${target} · ${node.flags.join(' ')}` };
}

function renderNode(node: PtNode, parentRegion: string | undefined, html: string[], text: string[], depth: number): void {
  const { head, tail } = label(node, parentRegion);
  const region = node.region ?? parentRegion;
  text.push(`${'  '.repeat(depth)}${head} ${tail}`);
  const line = `${e(head)} <span style="${MUTED}">${e(tail)}</span>`;
  if (node.leaf || node.children.length === 0) {
    const empty = !node.leaf && node.loopsTo === undefined ? ` <span style="${MUTED}">(table has no present entries)</span>` : '';
    html.push(`<div class="pvops-pt-run" data-level="${node.level}" style="margin-left:18px">${line}${empty}</div>`);
    return;
  }
  html.push(`<details class="pvops-pt" data-level="${node.level}" style="margin-left:${depth === 1 ? 0 : 18}px">`);
  const present = node.children.reduce((n, c) => n + c.last - c.first + 1, 0);
  html.push(`<summary style="cursor:pointer">${line} <span style="${MUTED}">(${present} present entr${present === 1 ? 'y' : 'ies'})</span></summary>`);
  for (const child of node.children) renderNode(child, region, html, text, depth + 1);
  html.push('</details>');
}
