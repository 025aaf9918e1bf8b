"""The leaderboard for people: a Markdown table and one static HTML page with a speed
plot. Every student-supplied string is escaped for its medium.

    leaderboard_markdown(board) -> str   a table for people (README, issue, e-mail)
    leaderboard_html(board)     -> str   one static page: the tables and a speed plot,
                                         usable at phone width; ``page#row-<id>`` highlights
                                         a student's own row (CSS :target, no script)

The gradebook CSVs are in ``grader.publish.gradebook``.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from datetime import datetime

from grader.publish.finals import finals_anchor
from grader.publish.leaderboard import FunctionBoard, Leaderboard, LeaderboardEntry, SpeedFigure
from grader.grading.result_words import SPEED_MEANING, describe_figure, describe_interval, describe_machine, speed_words

# ------------------------------------------------------------------ shared wording

# Used when an entry carries no reason of its own (a board built without grader.publish.boards).
UNRANKED_REASONS: dict[str, str] = {
    "not_timed": "correct, but speed not measured",
    "failed_correctness": "failed a correctness check",
    "not_gradable": "not gradable (a grader error, not a grade)",
}

SPEED_EXPLANATION = (
    SPEED_MEANING + " Rank is 1 + the students with a higher "
    "score, or the same score and a speed more likely than not (over 55%) ahead of yours; so two students "
    "share a rank only when their speeds cannot be told apart, and never when their intervals are disjoint."
)
FUNCTION_BOARD_EXPLANATION = (
    "Everyone whose {function} is correct and timed, ranked by its speed alone, whatever the other function does."
)


def _format_speed(figure: SpeedFigure) -> str:
    if figure.speedup_vs_reference is None:
        return "—"
    machine = describe_machine(figure.gflops, figure.percent_of_peak)
    return (describe_figure(figure.speedup_vs_reference, figure.ci_low, figure.ci_high, figure.ci_level)
            + (f"; {machine}" if machine else ""))


def _format_score(entry: LeaderboardEntry) -> str:
    if entry.status == "not_gradable" or entry.score is None:
        return "—"
    return f"{entry.score:g} / {entry.max_score:g}"


def _reason(entry: LeaderboardEntry) -> str:
    return entry.reason or UNRANKED_REASONS[entry.status]


def _finals_mark(entry: LeaderboardEntry) -> str:
    return f" \u2605 finals #{entry.finals_rank}" if entry.finals_rank is not None else ""


def board_title(board: Leaderboard) -> str:
    return board.title or board.assignment


def human_date(iso: str) -> str:
    """"1 March 2025, 12:00 UTC" (or the text as given when it is not an ISO 8601 time)."""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    offset = moment.utcoffset()
    zone = "UTC" if offset is not None and offset.total_seconds() == 0 else moment.strftime("%z") or ""
    return f"{moment.day} {moment:%B %Y, %H:%M} {zone}".rstrip()


def row_anchor(entry: LeaderboardEntry) -> str:
    """The fragment that highlights a student's row: row-<id>, or row-<pseudonym> when anonymized."""
    key = entry.student_id if entry.student_id is not None else entry.student
    return "row-" + re.sub(r"[^A-Za-z0-9_-]", "-", key)


def _ranked(board: Leaderboard) -> list[LeaderboardEntry]:
    return [entry for entry in board.entries if entry.rank is not None]


def _unranked(board: Leaderboard) -> list[LeaderboardEntry]:
    return [entry for entry in board.entries if entry.rank is None]


# ------------------------------------------------------------------------- markdown

# Characters that change meaning in an inline Markdown table cell (CommonMark lets any
# ASCII punctuation be backslash-escaped): emphasis, links, code, raw HTML, the cell bar.
_MARKDOWN_SPECIAL = set("\\`*_[]<>|&~")


def _markdown_text(text: str) -> str:
    flat = " ".join(text.split())  # a newline would end the table row
    return "".join("\\" + char if char in _MARKDOWN_SPECIAL else char for char in flat)


def leaderboard_markdown(board: Leaderboard) -> str:
    """The board as Markdown: the ranking table, who is not ranked and why, the function boards."""
    lines = [
        f"# Leaderboard: {_markdown_text(board_title(board))}",
        "",
        f"Generated {_markdown_text(human_date(board.generated_at))} by convgrade "
        f"{_markdown_text(board.grader_version)}. " + SPEED_EXPLANATION,
        "",
    ]
    ranked = _ranked(board)
    if board.finals:
        lines += [f"Finalists (marked \u2605) were re-timed head to head: their order and ranks come from the "
                  f"[finals]({board.finals}).", ""]
    elif any(entry.finals_rank is not None for entry in ranked):  # no finals page beside this board to link
        lines += ["Finalists (marked \u2605) were re-timed head to head: their order and ranks come from the finals.", ""]
    if board.finals_note:
        lines += [_markdown_text(board.finals_note), ""]
    if ranked:
        lines += [
            "| Rank | Student | Score | " + " | ".join(f"{call.capitalize()} speed" for call in board.calls) + " |",
            "|---:|---|---:|" + "---|" * len(board.calls),
        ]
        lines += [
            f"| {entry.rank} | {_markdown_text(entry.student)}{_finals_mark(entry)} | {_format_score(entry)} | "
            + " | ".join(_format_speed(_speed(entry, call)) for call in board.calls) + " |"
            for entry in ranked
        ]
    else:
        lines.append("No submission is ranked yet.")
    unranked = _unranked(board)
    if unranked:
        lines += ["", "## Not ranked", "", "| Student | Score | Why |", "|---|---:|---|"]
        lines += [
            f"| {_markdown_text(entry.student)} | {_format_score(entry)} | {_markdown_text(_reason(entry))} |"
            for entry in unranked
        ]
    for function_board in board.function_boards:
        lines += ["", f"## {function_board.call.capitalize()} board", "",
                  FUNCTION_BOARD_EXPLANATION.format(function=function_board.call), ""]
        if function_board.entries:
            lines += [f"| Rank | Student | {function_board.call.capitalize()} speed |", "|---:|---|---|"]
            lines += [f"| {entry.rank} | {_markdown_text(entry.student)} | {_format_speed(entry.speed)} |"
                      for entry in function_board.entries]
        else:
            lines.append("Nobody yet.")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- html

# Below this width the tables turn into one card per student and the narrow plot shows.
_NARROW = "40rem"

_PAGE_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1d1d1f;
       max-width: 64rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; overflow-wrap: anywhere; }
.meta, .explanation { color: #555; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0 2rem; font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
th { background: #f3f3f5; }
td.number, th.number { text-align: right; white-space: nowrap; }
td .interval { display: block; color: #666; font-size: .85em; }
td.name { overflow-wrap: anywhere; }
tbody tr:nth-child(even) { background: #fafafa; }
tr:target, tr:target:nth-child(even) { background: #ffe08a; outline: 3px solid #d99a00; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .85rem; }
svg text { font-family: inherit; font-size: 12px; fill: #333; }
svg .axis, svg .tick { stroke: #888; }
svg .reference { stroke: #333; stroke-dasharray: 4 3; }
svg .row-band { fill: #f6f6f8; }
svg .call-0 { fill: #1f6fb4; stroke: #1f6fb4; }
svg .call-1 { fill: #e08214; stroke: #e08214; }
svg .call-2 { fill: #2a9d58; stroke: #2a9d58; }
svg .call-3 { fill: #8e44ad; stroke: #8e44ad; }
svg .call-4 { fill: #c0392b; stroke: #c0392b; }
svg circle { fill-opacity: .75; stroke-width: 1; }
svg line.ci { stroke-width: 1.5; stroke-opacity: .35; }
.plot-narrow { display: none; }
@media (max-width: NARROW) {
  body { margin: 1rem auto; }
  .plot-wide { display: none; }
  .plot-narrow { display: block; }
  table.board thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.board, table.board tbody, table.board tr, table.board td { display: block; width: auto; }
  table.board tr { border-bottom: 1px solid #ccc; padding: .4rem 0; }
  table.board td { border: none; padding: .1rem .5rem; text-align: left; white-space: normal; }
  table.board td::before { content: attr(data-label) ": "; font-weight: 600; color: #555; }
  table.board td .interval { display: inline; margin-left: .3rem; }
}
""".replace("NARROW", _NARROW)

# Defence in depth: even if some text escaped escaping, the page can run no script
# and load nothing; the only thing it is allowed is its own inline style.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def leaderboard_html(board: Leaderboard) -> str:
    """One self-contained static page: the speed plot and the tables; no script, no fetch."""
    esc = html.escape
    title = board_title(board)
    counts = board.counts
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Leaderboard: {esc(title)}</title>",
        f"<style>{_PAGE_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>Leaderboard: {esc(title)}</h1>",
        f'<p class="meta">Generated <time datetime="{esc(board.generated_at)}">{esc(human_date(board.generated_at))}'
        f"</time> by convgrade {esc(board.grader_version)}. "
        f"{counts.ranked} ranked, {counts.not_timed} not timed, "
        f"{counts.failed_correctness} failed correctness, {counts.not_gradable} not gradable.</p>",
        f'<p class="explanation">{esc(SPEED_EXPLANATION)} Add <code>#row-</code> and your id (or pseudonym) '
        "to this page's address to highlight your row.</p>",
        *([f'<p class="explanation" id="finals-link">Finalists (marked \u2605) were re-timed head to head: their '
           f'order and ranks come from the <a href="{esc(board.finals)}">finals</a>.</p>'] if board.finals else []),
        *(['<p class="explanation" id="finals-link">Finalists (marked \u2605) were re-timed head to head: their '
           'order and ranks come from the finals.</p>']
          if not board.finals and any(e.finals_rank is not None for e in board.entries) else []),
        *([f'<p class="explanation" id="finals-note">{esc(board.finals_note)}</p>'] if board.finals_note else []),
        "<figure>",
        _speedup_plot_svg(_ranked(board), board.calls, _WIDE),
        _speedup_plot_svg(_ranked(board), board.calls, _PHONE),
        "<figcaption>Each dot is one ranked student's median speed against the reference, the faint bar its "
        "interval; the dashed line is the reference (1×).</figcaption>",
        "</figure>",
        _ranking_table(_ranked(board), board.calls, board.finals),
    ]
    unranked = _unranked(board)
    if unranked:
        parts += ["<h2>Not ranked</h2>", _unranked_table(unranked)]
    for function_board in board.function_boards:
        parts += _function_board_html(function_board)
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _speed_cell(figure: SpeedFigure, label: str) -> str:
    esc = html.escape
    if figure.speedup_vs_reference is None:
        return f'<td data-label="{esc(label)}">—</td>'
    interval = describe_interval(figure.speedup_vs_reference, figure.ci_low, figure.ci_high, figure.ci_level)
    words = esc(speed_words(figure.speedup_vs_reference))
    machine = describe_machine(figure.gflops, figure.percent_of_peak)
    return (f'<td data-label="{esc(label)}" data-speedup="{figure.speedup_vs_reference!r}">{words}'
            + (f'<span class="interval">{esc(interval)}</span>' if interval else "")
            + (f'<span class="interval machine">{esc(machine)}</span>' if machine else "") + "</td>")


def _speed(entry: LeaderboardEntry, call: str) -> SpeedFigure:
    """An entry's figure for a call of the board (an empty one where it has none)."""
    return entry.speeds.get(call) or SpeedFigure()


def _ranking_table(entries: list[LeaderboardEntry], calls: list[str], finals_page: str | None = None) -> str:
    esc = html.escape
    rows = [
        f'<tr class="entry{" finalist" if entry.finals_rank is not None else ""}" id="{esc(row_anchor(entry))}" '
        f'data-student="{esc(entry.student)}" data-rank="{entry.rank}">'
        f'<td class="number" data-label="Rank">{entry.rank}</td>'
        f'<td class="name" data-label="Student">{esc(entry.student)}{_finals_link(entry, finals_page)}</td>'
        f'<td class="number" data-label="Score">{esc(_format_score(entry))}</td>'
        + "".join(_speed_cell(_speed(entry, call), call.capitalize()) for call in calls) + "</tr>"
        for entry in entries
    ]
    if not rows:
        rows = [f'<tr class="empty"><td colspan="{3 + len(calls)}">No submission is ranked yet.</td></tr>']
    return (
        '<table id="ranking" class="board">\n<thead><tr><th class="number">Rank</th><th>Student</th>'
        '<th class="number">Score</th>' + "".join(f"<th>{html.escape(call.capitalize())} speed</th>" for call in calls)
        + "</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
    )


def _finals_link(entry: LeaderboardEntry, finals_page: str | None) -> str:
    """The finalist's mark, a link to its finals row when the finals page sits beside the board."""
    if entry.finals_rank is None:
        return ""
    if finals_page is None:
        return f' <span class="finals-mark">\u2605 finals #{entry.finals_rank}</span>'
    anchor = f"#{finals_anchor(entry.student_id)}" if entry.student_id else ""  # anonymized: no id to point at
    return (f' <a class="finals-mark" href="{html.escape(finals_page)}{html.escape(anchor)}">\u2605 finals '
            f'#{entry.finals_rank}</a>')


def _unranked_table(entries: list[LeaderboardEntry]) -> str:
    esc = html.escape
    rows = [
        f'<tr class="entry {entry.status}" id="{esc(row_anchor(entry))}" data-student="{esc(entry.student)}">'
        f'<td class="name" data-label="Student">{esc(entry.student)}</td>'
        f'<td class="number" data-label="Score">{esc(_format_score(entry))}</td>'
        f'<td data-label="Why">{esc(_reason(entry))}</td></tr>'
        for entry in entries
    ]
    return (
        '<table id="unranked" class="board">\n<thead><tr><th>Student</th><th class="number">Score</th>'
        "<th>Why</th></tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
    )


def _function_board_html(function_board: FunctionBoard) -> list[str]:
    esc = html.escape
    function = function_board.call
    rows = [
        f'<tr class="entry" data-student="{esc(entry.student)}" data-rank="{entry.rank}">'
        f'<td class="number" data-label="Rank">{entry.rank}</td>'
        f'<td class="name" data-label="Student">{esc(entry.student)}</td>'
        + _speed_cell(entry.speed, function.capitalize()) + "</tr>"
        for entry in function_board.entries
    ] or ['<tr class="empty"><td colspan="3">Nobody yet.</td></tr>']
    return [
        f"<h2>{function.capitalize()} board</h2>",
        f'<p class="explanation">{esc(FUNCTION_BOARD_EXPLANATION.format(function=function))}</p>',
        f'<table id="{function}-board" class="board">\n<thead><tr><th class="number">Rank</th><th>Student</th>'
        f"<th>{function.capitalize()} speed</th></tr></thead>\n<tbody>\n" + "\n".join(rows)
        + "\n</tbody>\n</table>",
    ]


# ------------------------------------------------------------------- the speed plot


@dataclass(frozen=True)
class _PlotLayout:
    """One drawing of the plot. The page holds two and CSS shows one: a phone gets a
    narrow drawing at its own size, so its text stays 12 px instead of shrinking to 5."""

    name: str
    width: int
    left: int  # room for the row labels
    right: int
    max_ticks: int
    id_suffix: str


_WIDE = _PlotLayout("wide", 760, 90, 24, 10, "")
_PHONE = _PlotLayout("narrow", 340, 76, 14, 5, "-narrow")
_PLOT_TOP = 28  # room for the reference label
_ROW_HEIGHT = 80
_AXIS_HEIGHT = 48  # tick labels and the axis title
_DOT_RADIUS = 5
# Dots of equal speed would hide each other: spread them over a few lanes per row,
# by their position in the ranking, so the spread is deterministic.
_LANES = 7
_LANE_SPACING = 8


@dataclass(frozen=True)
class _LogScale:
    """Maps a positive value to an x pixel on a log10 axis."""

    log_low: float
    log_high: float
    x_left: float
    x_right: float

    @classmethod
    def covering(cls, values: list[float], x_left: float, x_right: float) -> _LogScale:
        logs = [math.log10(value) for value in values + [1.0]]  # the reference is always on the axis
        low, high = min(logs), max(logs)
        # At least a factor of 2 wide, so a lone dot next to 1× is not stretched to the edges.
        span = max(high - low, math.log10(2))
        middle = (low + high) / 2
        padding = 0.08 * span
        return cls(middle - span / 2 - padding, middle + span / 2 + padding, x_left, x_right)

    def x(self, value: float) -> float:
        fraction = (math.log10(value) - self.log_low) / (self.log_high - self.log_low)
        return self.x_left + fraction * (self.x_right - self.x_left)

    def ticks(self, max_ticks: int = 10) -> list[float]:
        """1-2-5 steps per decade, or powers of ten (then every other one) when that would crowd the axis."""
        for mantissas in ((1, 2, 5), (1,)):
            ticks = self._ticks_with(mantissas)
            if len(ticks) <= max_ticks:
                return ticks
        step = math.ceil(len(ticks) / max_ticks)
        return ticks[::step]

    def _ticks_with(self, mantissas: tuple[int, ...]) -> list[float]:
        decades = range(math.floor(self.log_low), math.ceil(self.log_high) + 1)
        candidates = (m * 10.0**d for d in decades for m in mantissas)
        return [tick for tick in candidates if self.log_low <= math.log10(tick) <= self.log_high]


_COLOURS = 5  # svg .call-0 ... .call-4 in the page's style


def _call_list(calls: list[str]) -> str:
    """'Forward and backward', 'Forward, backward and backward_alt'."""
    words = [call.capitalize() if i == 0 else call for i, call in enumerate(calls)]
    return " and ".join(words) if len(words) <= 2 else ", ".join(words[:-1]) + " and " + words[-1]


def _speedup_plot_svg(entries: list[LeaderboardEntry], calls: list[str], layout: _PlotLayout = _WIDE) -> str:
    """The page's speed plot as inline SVG (no script, so the page's strict Content Security
    Policy holds). Over 60 lines on purpose: one straight drawing, axis, rows, points and
    intervals in the order they are painted; split, the coordinates would travel between
    functions that each know only part of the layout."""
    esc = html.escape
    width, left, right = layout.width, layout.left, layout.right
    height = _PLOT_TOP + _ROW_HEIGHT * len(calls) + _AXIS_HEIGHT
    plot_id = f"speedup-plot{layout.id_suffix}"
    opening = (
        f'<svg id="{plot_id}" class="plot-{layout.name}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="{plot_id}-title" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
        f'<title id="{plot_id}-title">{esc(_call_list(calls))} speed against the reference</title>'
    )
    speeds = [
        figure.speedup_vs_reference
        for entry in entries
        for figure in (_speed(entry, call) for call in calls)
        if figure.speedup_vs_reference is not None
    ]
    if not speeds:
        return (
            opening
            + f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">No ranked submission yet.</text></svg>'
        )

    interval_ends = [
        end
        for entry in entries
        for figure in (_speed(entry, call) for call in calls)
        for end in (figure.ci_low, figure.ci_high)
        if end is not None
    ]
    scale = _LogScale.covering(speeds + interval_ends, left, width - right)
    axis_y = _PLOT_TOP + _ROW_HEIGHT * len(calls)
    parts = [opening]
    for row, function in enumerate(calls):
        center = _PLOT_TOP + _ROW_HEIGHT * row + _ROW_HEIGHT / 2
        parts.append(
            f'<rect class="row-band" x="{left}" y="{center - _ROW_HEIGHT / 2 + 4:.1f}" '
            f'width="{width - left - right}" height="{_ROW_HEIGHT - 8}"/>'
            f'<text class="row-label" x="{left - 8}" y="{center + 4:.1f}" text-anchor="end">{function}</text>'
        )
    for tick in scale.ticks(layout.max_ticks):
        x = scale.x(tick)
        parts.append(
            f'<line class="tick" x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 5}"/>'
            f'<text x="{x:.1f}" y="{axis_y + 18}" text-anchor="middle">{tick:g}×</text>'
        )
    axis_title = "speed vs reference (log; right is faster)" if layout is _PHONE else (
        "speed vs reference (log scale; right is faster)")
    parts.append(
        f'<line class="axis" x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}"/>'
        f'<text x="{(left + width - right) / 2}" y="{axis_y + 38}" text-anchor="middle">{axis_title}</text>'
    )
    reference_x = scale.x(1.0)
    parts.append(
        f'<line id="reference-line{layout.id_suffix}" class="reference" x1="{reference_x:.1f}" y1="{_PLOT_TOP - 6}" '
        f'x2="{reference_x:.1f}" y2="{axis_y}"/>'
        f'<text x="{reference_x:.1f}" y="{_PLOT_TOP - 10}" text-anchor="middle">reference 1×</text>'
    )
    for row, function in enumerate(calls):
        center = _PLOT_TOP + _ROW_HEIGHT * row + _ROW_HEIGHT / 2
        colour = f"call-{row % _COLOURS}"  # the page's palette, by row (call names are the pack's own)
        for position, entry in enumerate(entries):
            figure = _speed(entry, function)
            if figure.speedup_vs_reference is None:
                continue
            y = center + (position % _LANES - _LANES // 2) * _LANE_SPACING
            label = f"{entry.student}: {function} {_format_speed(figure)}"
            if figure.ci_low is not None and figure.ci_high is not None:
                parts.append(
                    f'<line class="ci {function} {colour}" x1="{scale.x(figure.ci_low):.1f}" y1="{y:.1f}" '
                    f'x2="{scale.x(figure.ci_high):.1f}" y2="{y:.1f}"/>'
                )
            parts.append(
                f'<circle class="speedup {function} {colour}" cx="{scale.x(figure.speedup_vs_reference):.1f}" cy="{y:.1f}" '
                f'r="{_DOT_RADIUS}" data-plot="{layout.name}" data-student="{esc(entry.student)}" '
                f'data-function="{function}" data-speedup="{figure.speedup_vs_reference!r}">'
                f"<title>{esc(label)}</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)
