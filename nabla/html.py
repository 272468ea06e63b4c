"""A self-contained page showing a function and its derivative side by side
(``python -m nabla show FILE.py:f --html OUT.html``).

The primal is on the left, the generated module on the right, one tab per stage of
the pipeline (``nabla.stages``). Each generated line that comes from a line of the
primal is linked to it: hovering or clicking either highlights both (the whole block
of generated lines from that primal line). No scripts or styles are fetched: the page
opens offline, from a file.

>>> import numpy as np, nabla
>>> def f(x):
...     y = np.sin(x)
...     return np.sum(y * y)
>>> text = page(nabla.grad(f), (np.ones(3),))
>>> text.startswith("<!DOCTYPE html>"), text.count('class="ln d" data-src=') > 0
(True, True)
"""

from __future__ import annotations

import html as _html
import json

from . import stages
from .frontend.parse import source_lines


def page(f, example: tuple = ()) -> str:
    """The page for the ``nabla.Function`` ``f``: the module a call with ``example``
    runs (without: what ``f.source`` shows), each stage in a tab."""
    variant = f._variant_for(example) if example else f._shown()
    fn = f._plain()
    lines, first = source_lines(fn)
    primal = "".join(
        f'<div class="ln p" id="p{first + i}" data-line="{first + i}">'
        f'<span class="no">{first + i}</span>{_esc(line.rstrip())}</div>'
        for i, line in enumerate(lines))
    tabs, panes = [], []
    for stage in stages.STAGES:
        text, line_map = stages.rendered(variant, stage)
        chosen = stage == "module"
        tabs.append(f'<button class="tab{" on" if chosen else ""}" data-stage="{stage}" '
                    f'title="{_esc(stages.STAGES[stage])}">{stage}</button>')
        rows = []
        for i, line in enumerate(text.rstrip("\n").split("\n"), 1):
            src = line_map.get(i)
            link = f' data-src="{src}"' if src is not None else ""
            cls = "ln d" + (" c" if line.lstrip().startswith("#") else "")
            rows.append(f'<div class="{cls}"{link}><span class="no">{i}</span>'
                        f'{_esc(line)}</div>')
        panes.append(f'<div class="pane{" on" if chosen else ""}" id="s-{stage}">'
                     f'{"".join(rows)}</div>')
    title = f"{f._described()} — nabla"
    where = f"{fn.__code__.co_filename}:{fn.__code__.co_firstlineno}"
    return _PAGE.format(title=_esc(title), where=_esc(where), primal=primal,
                        tabs="".join(tabs), panes="".join(panes),
                        stages=json.dumps(list(stages.STAGES)))


def _esc(text: str) -> str:
    return _html.escape(text, quote=True)


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #222; }}
header {{ padding: 8px 14px; background: #f3f3f6; border-bottom: 1px solid #ddd; }}
header h1 {{ font-size: 16px; margin: 0; }} header p {{ margin: 2px 0 0; color: #666; }}
main {{ display: flex; gap: 0; align-items: flex-start; }}
section {{ flex: 1; min-width: 0; padding: 8px 14px; }}
section + section {{ border-left: 1px solid #ddd; }}
h2 {{ font-size: 13px; text-transform: uppercase; color: #666; margin: 4px 0 8px; }}
.code {{ font: 13px/1.5 ui-monospace, Menlo, Consolas, monospace; white-space: pre;
         overflow-x: auto; }}
.ln {{ padding: 0 6px; border-radius: 3px; }}
.ln[data-src], .p {{ cursor: pointer; }}
.no {{ display: inline-block; width: 3em; color: #aaa; user-select: none; }}
.c {{ color: #2a7a3a; }}
.hl {{ background: rgb(255, 236, 153); }}
.tab {{ font: inherit; border: 1px solid #ccc; background: #fff; padding: 2px 10px;
        border-radius: 4px; cursor: pointer; margin-right: 4px; }}
.tab.on {{ background: #333; color: #fff; border-color: #333; }}
.pane {{ display: none; margin-top: 8px; }} .pane.on {{ display: block; }}
</style></head>
<body>
<header><h1>{title}</h1><p>from {where}; hover or click a line: its primal line and
the generated lines it became are highlighted together</p></header>
<main>
<section><h2>primal</h2><div class="code" id="primal">{primal}</div></section>
<section><h2>generated</h2><div id="tabs">{tabs}</div>
<div class="code" id="generated">{panes}</div></section>
</main>
<script>
(function () {{
  var pinned = null;
  function clear() {{
    document.querySelectorAll('.hl').forEach(function (e) {{ e.classList.remove('hl'); }});
  }}
  function light(line) {{
    clear();
    if (line === null) return;
    var p = document.getElementById('p' + line);
    if (p) p.classList.add('hl');
    document.querySelectorAll('.pane.on .d[data-src="' + line + '"]').forEach(
      function (e) {{ e.classList.add('hl'); }});
  }}
  function lineOf(e) {{
    var row = e.target.closest('.ln');
    if (!row) return null;
    return row.classList.contains('p') ? row.dataset.line : (row.dataset.src || null);
  }}
  ['primal', 'generated'].forEach(function (id) {{
    var box = document.getElementById(id);
    box.addEventListener('mouseover', function (e) {{ var l = lineOf(e); if (l) light(l); }});
    box.addEventListener('mouseout', function () {{ light(pinned); }});
    box.addEventListener('click', function (e) {{ pinned = lineOf(e); light(pinned); }});
  }});
  document.querySelectorAll('.tab').forEach(function (b) {{
    b.addEventListener('click', function () {{
      document.querySelectorAll('.tab, .pane').forEach(function (e) {{
        e.classList.remove('on'); }});
      b.classList.add('on');
      document.getElementById('s-' + b.dataset.stage).classList.add('on');
      light(pinned);
    }});
  }});
  window.nablaStages = {stages};
}})();
</script>
</body></html>
"""
