#!/usr/bin/env python3
"""Developer helper: turns a plain-text notebook source into an .ipynb for the tslab kernel.

Source format: cells separated by lines '#%% md' or '#%% code'. Words after the kind are cell tags:
'#%% code setup' makes a code cell tagged 'setup' (imports, loadPlotly, helper definitions), which
the published pages hide; other code cells are shown with their input collapsed. Usage:
  python3 scripts/nbgen.py notebooks/src/00-smoke.txt notebooks/00-smoke.ipynb
The .ipynb files are committed; this script only saves hand-editing JSON.
"""
import json, sys

def parse(text):
    cells, kind, lines = [], None, []
    for line in text.splitlines():
        if line.startswith('#%% '):
            if kind is not None:
                cells.append((kind, lines))
            kind, lines = line[4:].split(), []
            if not kind or kind[0] not in ('md', 'code'):
                raise SystemExit(f"nbgen: unknown cell header {line!r}: use '#%% md' or '#%% code [tag ...]'")
        else:
            lines.append(line)
    if kind is not None:
        cells.append((kind, lines))
    return cells

def to_cell(header, lines):
    kind, tags = header[0], header[1:]
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    source = [l + '\n' for l in lines]
    if source:
        source[-1] = source[-1].rstrip('\n')
    metadata = {'tags': tags} if tags else {}
    if kind == 'md':
        return {'cell_type': 'markdown', 'metadata': metadata, 'source': source}
    return {'cell_type': 'code', 'execution_count': None, 'metadata': metadata, 'outputs': [], 'source': source}

def main(src, dst):
    cells = [to_cell(k, l) for k, l in parse(open(src).read())]
    nb = {
        'cells': cells,
        'metadata': {
            'kernelspec': {'display_name': 'TypeScript', 'language': 'typescript', 'name': 'tslab'},
            'language_info': {'codemirror_mode': {'mode': 'typescript', 'name': 'javascript', 'typescript': True},
                              'file_extension': '.ts', 'mimetype': 'text/typescript', 'name': 'typescript', 'version': '3.7.2'},
        },
        'nbformat': 4, 'nbformat_minor': 5,
    }
    for i, c in enumerate(nb['cells']):
        c['id'] = f'cell-{i:02d}'
    with open(dst, 'w') as f:
        json.dump(nb, f, indent=1)
        f.write('\n')

if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
