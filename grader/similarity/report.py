"""The staff-only HTML report of similar pairs. Student code is untrusted text: every
character of it is escaped, and the page's Content-Security-Policy (as the leaderboard
page's) allows no script, no fetch and no external resource."""

from __future__ import annotations

from html import escape

from grader.similarity.detect import Pair
from grader.similarity.sources import GradedCode

# Side-by-side code for the most similar pairs only: staff read the top of the list, and a
# class of 300 can have thousands of pairs above a low threshold (megabytes of HTML).
MAX_DETAILED_PAIRS = 100
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"
STYLE = ("body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
         "padding:.2em .5em;vertical-align:top}pre{font-size:12px;white-space:pre-wrap;margin:0}"
         "mark{background:#fd6}.side{width:50%}")


def highlighted(code: str, spans: list[tuple[int, int]]) -> str:
    """``code`` escaped, with the matching spans in <mark>."""
    parts, at = [], 0
    for start, end in sorted(spans):
        start = max(start, at)
        if end <= start:
            continue
        parts += [escape(code[at:start]), "<mark>", escape(code[start:end]), "</mark>"]
        at = end
    parts.append(escape(code[at:]))
    return "".join(parts)


def _link(index: int) -> str:
    return f'<a href="#pair-{index}">{index}</a>' if index <= MAX_DETAILED_PAIRS else str(index)


def _who(code: GradedCode) -> str:
    return escape(f"{code.owner} ({code.source_name}, {code.entry})")


def similarity_html(pairs: list[Pair], *, threshold: float, compared: int, skipped: list[tuple[str, str]]) -> str:
    rows = "".join(
        f'<tr><td>{_link(i)}</td><td>{escape(p.left.owner)}</td><td>{escape(p.right.owner)}</td>'
        f"<td>{p.overlap[0]:.0%}</td><td>{p.overlap[1]:.0%}</td></tr>" for i, p in enumerate(pairs, 1))
    details = "".join(
        f'<h2 id="pair-{i}">{i}. {escape(p.left.owner)} and {escape(p.right.owner)}: {p.score:.0%}</h2>'
        f'<table><tr><th class="side">{_who(p.left)}: {p.overlap[0]:.0%} found in the other</th>'
        f'<th class="side">{_who(p.right)}: {p.overlap[1]:.0%} found in the other</th></tr>'
        f"<tr><td><pre>{highlighted(p.left.code, p.spans[0])}</pre></td>"
        f"<td><pre>{highlighted(p.right.code, p.spans[1])}</pre></td></tr></table>"
        for i, p in enumerate(pairs[:MAX_DETAILED_PAIRS], 1))
    if len(pairs) > MAX_DETAILED_PAIRS:
        details += (f"<p>The code of the other {len(pairs) - MAX_DETAILED_PAIRS} pairs is not shown: "
                    "raise --threshold to see fewer, closer pairs.</p>")
    skipped_list = "".join(f"<li>{escape(who)}: {escape(why)}</li>" for who, why in skipped)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        f"<title>Similarity (staff only)</title><style>{STYLE}</style></head><body>"
        "<h1>Similarity of the graded functions (staff only: never publish)</h1>"
        f"<p>{compared} submissions compared; {len(pairs)} pairs at or above {threshold:.0%} overlap. "
        "Names, comments, strings and layout are normalised away (copydetect's winnowing, as MOSS does); "
        "the template and idioms most of the class shares do not count. A high overlap is a reason to look, "
        "not proof of copying.</p>"
        "<table><tr><th>#</th><th>first</th><th>second</th><th>first found in second</th>"
        f"<th>second found in first</th></tr>{rows}</table>{details}"
        + (f"<h2>Not compared</h2><ul>{skipped_list}</ul>" if skipped else "")
        + "</body></html>\n")
