"""The report as one HTML file that needs nothing else: the PNGs inside it as data URIs.

A file that carries its images can be mailed, attached to a study and opened from the
dashboard's download as it is.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Plot:
    """One figure: `name` is its PNG's file stem, `caption` says how to read it."""

    name: str
    title: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class Section:
    title: str
    facts: tuple[tuple[str, str], ...]  # label, value
    plots: tuple[Plot, ...]
    notes: tuple[str, ...] = ()  # what could not be drawn, and why


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1250px;
       color: #222; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; }
th { text-align: left; padding: 0.15em 1.5em 0.15em 0; font-weight: 600; vertical-align: top; }
td { padding: 0.15em 0; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; margin-top: 0.4em; max-width: 60em; }
.note { color: #8a5a00; }
"""


def render(title: str, subtitle: str, sections: Sequence[Section]) -> str:
    body = "\n".join(_section(s) for s in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{escape(title)}</h1>
<p>{escape(subtitle)}</p>
{body}
</body>
</html>
"""


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _section(section: Section) -> str:
    parts = [f"<section>\n<h2>{escape(section.title)}</h2>"]
    if section.facts:
        rows = "\n".join(
            f"<tr><th>{escape(label)}</th><td>{escape(value)}</td></tr>"
            for label, value in section.facts
        )
        parts.append(f"<table>\n{rows}\n</table>")
    parts += [f'<p class="note">{escape(note)}</p>' for note in section.notes]
    parts += [_figure(plot) for plot in section.plots]
    parts.append("</section>")
    return "\n".join(parts)


def _figure(plot: Plot) -> str:
    return (
        f'<figure id="{escape(plot.name)}">\n'
        f'<img src="{data_uri(plot.png)}" alt="{escape(plot.title)}">\n'
        f"<figcaption><b>{escape(plot.title)}.</b> {escape(plot.caption)}</figcaption>\n"
        "</figure>"
    )
