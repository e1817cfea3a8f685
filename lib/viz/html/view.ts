/**
 * An HTML view: a self-contained HTML fragment (inline styles only, no external assets, no
 * script) with a plain-text rendering of the same content for terminals and text/plain.
 */
export interface HtmlView {
  /** marks the object as a view for show() */
  kind: 'pvops-lab/html-view';
  title: string;
  html: string;
  text: string;
}

export function htmlView(title: string, html: string, text: string): HtmlView {
  return { kind: 'pvops-lab/html-view', title, html, text };
}

export function isHtmlView(x: unknown): x is HtmlView {
  return typeof x === 'object' && x !== null && (x as HtmlView).kind === 'pvops-lab/html-view';
}

/** Shared inline styles (style attributes survive more renderers than <style> blocks). */
export const STYLE = {
  box: 'font-family:system-ui,-apple-system,Segoe UI,sans-serif;font-size:13px;line-height:1.45;color:#1b1f24;max-width:980px',
  mono: 'font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace',
  heading: 'font-weight:600;font-size:14px;margin:4px 0 6px',
  table: 'border-collapse:collapse;margin:4px 0 8px',
  th: 'text-align:left;padding:2px 8px;border-bottom:1px solid #ccd;font-weight:600',
  td: 'padding:2px 8px;border-bottom:1px solid #eef;vertical-align:top;text-align:left',
  muted: 'color:#5a6270',
  bad: 'color:#b00020;font-weight:600',
  good: 'color:#13794b;font-weight:600',
} as const;
