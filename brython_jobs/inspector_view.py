"""DOM building blocks of the inspector (inspector.py): elements, buttons, value blocks
with "show all", time cells and the finished-per-minute chart (plain SVG).

Safety rule of this module: every piece of data reaches the page as text (``textContent``,
``createTextNode``, the ``value`` property); nothing is ever parsed as HTML, so a payload
like ``<img src=x onerror=...>`` is shown, never run. The only markup is the constant CSS.
"""

import javascript

from browser import document, window

from .admin import preview, relative

SVG = "http://www.w3.org/2000/svg"
OUTCOMES = (("completed", "#389e0d"), ("failed", "#cf1322"), ("cancelled", "#8c8c8c"))

CSS = """
.bji { font: inherit; color: inherit; line-height: 1.35; }
.bji section { margin: 0 0 1rem; border: none; padding: 0; border-radius: 0; }
.bji h3 { font-size: 1em; margin: 0.6rem 0 0.3rem; }
.bji table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
.bji th, .bji td { text-align: left; padding: 0.2rem 0.4rem; border-bottom: 1px solid #e5e5e5;
  vertical-align: top; overflow-wrap: anywhere; }
.bji th { font-weight: 600; }
.bji .num { text-align: right; font-variant-numeric: tabular-nums; }
.bji .muted { color: #6b6b6b; }
.bji .paused { background: #fff1b8; color: #614700; border-radius: 0.6rem; padding: 0 0.4rem;
  font-size: 0.85em; }
.bji .st-pending { color: #8a5a00; } .bji .st-processing { color: #0050b3; font-weight: 600; }
.bji .st-completed { color: #237804; } .bji .st-failed { color: #a8071a; font-weight: 600; }
.bji .st-cancelled { color: #595959; }
.bji button { font: inherit; font-size: 0.9em; margin: 0.1rem; cursor: pointer; }
.bji button[aria-pressed="true"] { font-weight: 700; text-decoration: underline; }
.bji button:focus-visible, .bji input:focus-visible, .bji select:focus-visible {
  outline: 2px solid #1677ff; outline-offset: 1px; }
.bji input, .bji select { font: inherit; font-size: 0.9em; }
.bji pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; margin: 0.2rem 0;
  padding: 0.3rem 0.5rem; max-height: 24rem; overflow: auto; font-size: 0.85em; }
.bji .bar { height: 0.6rem; background: #eee; border-radius: 0.3rem; width: 12rem;
  display: inline-block; vertical-align: middle; }
.bji .bar > span { display: block; height: 100%; background: #1677ff; border-radius: 0.3rem; }
.bji .detail { border: 1px solid #d9d9d9; border-radius: 6px; padding: 0.5rem 0.8rem; }
.bji dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 0.8rem; margin: 0; }
.bji dt { color: #6b6b6b; } .bji dd { margin: 0; overflow-wrap: anywhere; }
.bji .legend span { margin-right: 0.8rem; } .bji .legend i { display: inline-block;
  width: 0.7rem; height: 0.7rem; margin-right: 0.25rem; vertical-align: -0.05rem; }
.bji .toolbar > * { margin: 0.1rem 0.3rem 0.1rem 0; }
.bji .note { min-height: 1.3em; }
"""


def el(tag, text=None, cls=None, attrs=None):
    """A new element; ``text`` becomes its ``textContent`` (never parsed)."""
    node = document.createElement(tag)
    if cls:
        node.setAttribute("class", cls)
    if attrs:
        for name in attrs:
            node.setAttribute(name, str(attrs[name]))
    if text is not None:
        node.textContent = str(text)
    return node


def add(parent, *children):
    for child in children:
        if child is None:
            continue
        if type(child) is str:
            child = document.createTextNode(child)
        parent.appendChild(child)
    return parent


def clear(node):
    node.textContent = ""
    return node


def button(text, on_click, cls=None, focus=None, label=None):
    """A real <button> (keyboard reachable); ``focus`` names it so focus survives a
    re-render; ``label`` is its accessible name when the visible text is short."""
    node = el("button", text, cls, {"type": "button"})
    if focus:
        node.setAttribute("data-focus", focus)
    if label:
        node.setAttribute("aria-label", label)
    node.bind("click", lambda ev: on_click())
    return node


def json_text(value):
    """JSON text of a stored value, for display."""
    return javascript.JSON.stringify(value)


def value_block(text, limit, expanded, on_toggle, focus):
    """A <pre> with ``text`` (cut at ``limit`` characters unless ``expanded``) and a
    "show all" / "show less" button when it is long."""
    box = el("div")
    shown, hidden = preview(text, limit)
    if expanded:
        shown = text
    add(box, el("pre", shown))
    if hidden:
        what = "show less" if expanded else f"show all ({len(text):,} characters)"
        add(box, button(what, on_toggle, focus=focus))
    return box


def absolute(t):
    """Local date and time of an epoch instant (a malformed value shows as itself)."""
    if type(t) not in (int, float):
        return str(t)
    return window.Date.new(t * 1000).toLocaleString()


def time_text(t, now):
    """``"in 5 s (01/12/2026, 10:15:02)"``; ``"—"`` for None."""
    if t is None:
        return "—"
    return f"{relative(t, now)} ({absolute(t)})"


def time_cell(t, now):
    """A <td> with the relative time, the absolute one as its title (hover)."""
    cell = el("td", relative(t, now) if t is not None else "—", "muted")
    if t is not None:
        cell.setAttribute("title", absolute(t))
    return cell


def progress_bar(fraction):
    bar = el("span", None, "bar", {"role": "progressbar", "aria-valuemin": 0,
                                    "aria-valuemax": 100,
                                    "aria-valuenow": int(fraction * 100)})
    fill = el("span")
    fill.setAttribute("style", f"width: {max(0.0, min(1.0, fraction)) * 100:.1f}%")
    return add(bar, fill)


def svg(tag, attrs):
    node = document.createElementNS(SVG, tag)
    for name in attrs:
        node.setAttribute(name, str(attrs[name]))
    return node


def chart(hist, now):
    """Stacked bars of jobs finished per minute (``JobQueue.finished_per_minute``), one
    per minute, oldest on the left, with a legend and the hour's totals as text."""
    n = len(hist["completed"])
    width, height, gap = 6, 60, 1
    peak = 0
    for i in range(n):
        total = 0
        for outcome in OUTCOMES:
            total += hist[outcome[0]][i]
        peak = max(peak, total)
    top = max(1, peak)
    box = el("div", None, "chart")
    pic = svg("svg", {"width": n * (width + gap), "height": height + 14,
                      "role": "img", "class": "bji-chart",
                      "viewBox": f"0 0 {n * (width + gap)} {height + 14}"})
    totals = {}
    for outcome in OUTCOMES:
        totals[outcome[0]] = 0
    for i in range(n):
        y = height
        for outcome in OUTCOMES:
            count = hist[outcome[0]][i]
            totals[outcome[0]] += count
            if count:
                h = max(1.0, count / top * height)
                y -= h
                rect = svg("rect", {"x": i * (width + gap), "y": f"{y:.1f}", "width": width,
                                    "height": f"{h:.1f}", "fill": outcome[1],
                                    "data-outcome": outcome[0]})
                add(rect, add(svg("title", {}), f"{count} {outcome[0]}, "
                              f"{relative(hist['start'] + i * hist['width'], now)}"))
                add(pic, rect)
    add(pic, svg("line", {"x1": 0, "y1": height + 0.5, "x2": n * (width + gap),
                          "y2": height + 0.5, "stroke": "#bfbfbf"}))
    label = add(svg("text", {"x": 0, "y": height + 12, "font-size": 10, "fill": "#6b6b6b"}),
                f"{n} min ago")
    now_label = add(svg("text", {"x": n * (width + gap), "y": height + 12, "font-size": 10,
                                 "fill": "#6b6b6b", "text-anchor": "end"}), "now")
    add(pic, label, now_label)
    summary = []
    for outcome in OUTCOMES:
        summary.append(f"{totals[outcome[0]]} {outcome[0]}")
    pic.setAttribute("aria-label", "jobs finished per minute, last hour: " + ", ".join(summary))
    legend = el("div", None, "legend muted")
    for outcome in OUTCOMES:
        item = el("span")
        swatch = el("i")
        swatch.setAttribute("style", f"background: {outcome[1]}")
        add(legend, add(item, swatch, f"{outcome[0]} {totals[outcome[0]]}"))
    add(legend, el("span", f"peak {peak}/min"))
    return add(box, pic, legend)
