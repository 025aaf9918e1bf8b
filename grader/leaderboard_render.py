"""The leaderboard for people: a Markdown table, one static HTML page with a speed
plot, and the gradebook CSV. Every student-supplied string is escaped for its medium.

    leaderboard_markdown(board) -> str   a table for people (README, issue, e-mail)
    leaderboard_html(board)     -> str   one static page: the table and a speed plot
    scores_csv(results)         -> str   gradebook import, built from the results so that
                                         an anonymized board never needs to hold real ids
"""

from __future__ import annotations

import csv
import html
import io
import math
from dataclasses import dataclass

from grader.leaderboard import SCORE_DECIMALS, Leaderboard, LeaderboardEntry, SpeedFigure, validate_results
from grader.result import GradeResult

# ------------------------------------------------------------------ shared wording

UNRANKED_REASONS: dict[str, str] = {
    "not_timed": "correct, but speed not measured",
    "failed_correctness": "failed a correctness check",
    "not_gradable": "not gradable (a grader error, not a grade)",
}

SPEED_EXPLANATION = (
    "Speedup is reference time / student time (CPU time of each call, over several worker pairs): "
    "above 1× is faster than the reference. Brackets hold its 95% confidence interval. Rank is 1 + "
    "the students with a higher score, or the same score and an interval entirely above yours."
)


def _format_ratio(value: float) -> str:
    return f"{value:.3g}×"


def _format_speed(figure: SpeedFigure) -> str:
    if figure.speedup_vs_reference is None:
        return "—"
    text = _format_ratio(figure.speedup_vs_reference)
    if figure.ci_low is not None and figure.ci_high is not None:
        text += f" [{figure.ci_low:.3g}, {figure.ci_high:.3g}]"
    return text


def _format_score(entry: LeaderboardEntry) -> str:
    if entry.status == "not_gradable":
        return "—"
    return f"{entry.score:g} / {entry.max_score:g}"


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
    """The board as Markdown: the ranking table, then who is not ranked and why."""
    lines = [
        f"# Leaderboard: {_markdown_text(board.assignment)}",
        "",
        f"Generated {_markdown_text(board.generated_at)} by convgrade {_markdown_text(board.grader_version)}. "
        + SPEED_EXPLANATION,
        "",
    ]
    ranked = _ranked(board)
    if ranked:
        lines += [
            "| Rank | Student | Score | Forward speedup [CI] | Backward speedup [CI] |",
            "|---:|---|---:|---:|---:|",
        ]
        lines += [
            f"| {entry.rank} | {_markdown_text(entry.student)} | {_format_score(entry)} "
            f"| {_format_speed(entry.forward)} | {_format_speed(entry.backward)} |"
            for entry in ranked
        ]
    else:
        lines.append("No submission is ranked yet.")
    unranked = _unranked(board)
    if unranked:
        lines += ["", "## Not ranked", "", "| Student | Score | Why |", "|---|---:|---|"]
        lines += [
            f"| {_markdown_text(entry.student)} | {_format_score(entry)} | {UNRANKED_REASONS[entry.status]} |"
            for entry in unranked
        ]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- html

_FUNCTIONS = ("forward", "backward")

_PAGE_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1d1d1f;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
.meta, .explanation { color: #555; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0 2rem; font-variant-numeric: tabular-nums; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid #ddd; text-align: left; }
th { background: #f3f3f5; }
td.number, th.number { text-align: right; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafafa; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .85rem; }
svg text { font-family: inherit; font-size: 12px; fill: #333; }
svg .axis, svg .tick { stroke: #888; }
svg .reference { stroke: #333; stroke-dasharray: 4 3; }
svg .row-band { fill: #f6f6f8; }
svg .forward { fill: #1f6fb4; stroke: #1f6fb4; }
svg .backward { fill: #e08214; stroke: #e08214; }
svg circle { fill-opacity: .75; stroke-width: 1; }
svg line.ci { stroke-width: 1.5; stroke-opacity: .35; }
"""

# Defence in depth: even if some text escaped escaping, the page can run no script
# and load nothing; the only thing it is allowed is its own inline style.
_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


def leaderboard_html(board: Leaderboard) -> str:
    """One self-contained static page: the speed plot and the tables; no script, no fetch."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CONTENT_SECURITY_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Leaderboard: {esc(board.assignment)}</title>",
        f"<style>{_PAGE_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>Leaderboard: {esc(board.assignment)}</h1>",
        f'<p class="meta">Generated {esc(board.generated_at)} by convgrade {esc(board.grader_version)}. '
        f"{board.counts.ranked} ranked, {board.counts.not_timed} not timed, "
        f"{board.counts.failed_correctness} failed correctness, {board.counts.not_gradable} not gradable.</p>",
        f'<p class="explanation">{esc(SPEED_EXPLANATION)}</p>',
        "<figure>",
        _speedup_plot_svg(_ranked(board)),
        "<figcaption>Each dot is one ranked student's median speedup, the faint bar its confidence "
        "interval; the dashed line is the reference (1×).</figcaption>",
        "</figure>",
        _ranking_table(_ranked(board)),
    ]
    unranked = _unranked(board)
    if unranked:
        parts += ["<h2>Not ranked</h2>", _unranked_table(unranked)]
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _ranking_table(entries: list[LeaderboardEntry]) -> str:
    esc = html.escape
    rows = [
        f'<tr class="entry" data-student="{esc(entry.student)}" data-rank="{entry.rank}">'
        f'<td class="number">{entry.rank}</td><td>{esc(entry.student)}</td>'
        f'<td class="number">{esc(_format_score(entry))}</td>'
        f'<td class="number">{esc(_format_speed(entry.forward))}</td>'
        f'<td class="number">{esc(_format_speed(entry.backward))}</td></tr>'
        for entry in entries
    ]
    if not rows:
        rows = ['<tr class="empty"><td colspan="5">No submission is ranked yet.</td></tr>']
    return (
        '<table id="ranking">\n<thead><tr><th class="number">Rank</th><th>Student</th><th class="number">Score</th>'
        '<th class="number">Forward speedup [CI]</th><th class="number">Backward speedup [CI]</th></tr></thead>\n'
        "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
    )


def _unranked_table(entries: list[LeaderboardEntry]) -> str:
    esc = html.escape
    rows = [
        f'<tr class="entry {entry.status}" data-student="{esc(entry.student)}">'
        f'<td>{esc(entry.student)}</td><td class="number">{esc(_format_score(entry))}</td>'
        f"<td>{esc(UNRANKED_REASONS[entry.status])}</td></tr>"
        for entry in entries
    ]
    return (
        '<table id="unranked">\n<thead><tr><th>Student</th><th class="number">Score</th><th>Why</th></tr></thead>\n'
        "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
    )


# ------------------------------------------------------------------- the speed plot

_PLOT_WIDTH = 760
_PLOT_LEFT = 90  # room for the row labels
_PLOT_RIGHT = 24
_PLOT_TOP = 28  # room for the reference label
_ROW_HEIGHT = 80
_AXIS_HEIGHT = 48  # tick labels and the axis title
_DOT_RADIUS = 5
# Dots of equal speed would hide each other: spread them over a few lanes per row,
# by their position in the ranking, so the spread is deterministic.
_LANES = 7
_LANE_SPACING = 8
_MAX_TICKS = 10


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

    def ticks(self) -> list[float]:
        """1-2-5 steps per decade, or only powers of ten when that would crowd the axis."""
        one_two_five = self._ticks_with((1, 2, 5))
        return one_two_five if len(one_two_five) <= _MAX_TICKS else self._ticks_with((1,))

    def _ticks_with(self, mantissas: tuple[int, ...]) -> list[float]:
        decades = range(math.floor(self.log_low), math.ceil(self.log_high) + 1)
        candidates = (m * 10.0**d for d in decades for m in mantissas)
        return [tick for tick in candidates if self.log_low <= math.log10(tick) <= self.log_high]


def _speedup_plot_svg(entries: list[LeaderboardEntry]) -> str:
    esc = html.escape
    height = _PLOT_TOP + _ROW_HEIGHT * len(_FUNCTIONS) + _AXIS_HEIGHT
    opening = (
        f'<svg id="speedup-plot" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'aria-labelledby="speedup-plot-title" width="{_PLOT_WIDTH}" height="{height}" '
        f'viewBox="0 0 {_PLOT_WIDTH} {height}">'
        '<title id="speedup-plot-title">Forward and backward speedups against the reference</title>'
    )
    speeds = [
        figure.speedup_vs_reference
        for entry in entries
        for figure in (entry.forward, entry.backward)
        if figure.speedup_vs_reference is not None
    ]
    if not speeds:
        return (
            opening
            + f'<text x="{_PLOT_WIDTH / 2}" y="{height / 2}" text-anchor="middle">No ranked submission yet.</text></svg>'
        )

    interval_ends = [
        end
        for entry in entries
        for figure in (entry.forward, entry.backward)
        for end in (figure.ci_low, figure.ci_high)
        if end is not None
    ]
    scale = _LogScale.covering(speeds + interval_ends, _PLOT_LEFT, _PLOT_WIDTH - _PLOT_RIGHT)
    axis_y = _PLOT_TOP + _ROW_HEIGHT * len(_FUNCTIONS)
    parts = [opening]
    for row, function in enumerate(_FUNCTIONS):
        center = _PLOT_TOP + _ROW_HEIGHT * row + _ROW_HEIGHT / 2
        parts.append(
            f'<rect class="row-band" x="{_PLOT_LEFT}" y="{center - _ROW_HEIGHT / 2 + 4:.1f}" '
            f'width="{_PLOT_WIDTH - _PLOT_LEFT - _PLOT_RIGHT}" height="{_ROW_HEIGHT - 8}"/>'
            f'<text class="row-label" x="{_PLOT_LEFT - 10}" y="{center + 4:.1f}" text-anchor="end">{function}</text>'
        )
    for tick in scale.ticks():
        x = scale.x(tick)
        parts.append(
            f'<line class="tick" x1="{x:.1f}" y1="{axis_y}" x2="{x:.1f}" y2="{axis_y + 5}"/>'
            f'<text x="{x:.1f}" y="{axis_y + 18}" text-anchor="middle">{tick:g}×</text>'
        )
    parts.append(
        f'<line class="axis" x1="{_PLOT_LEFT}" y1="{axis_y}" x2="{_PLOT_WIDTH - _PLOT_RIGHT}" y2="{axis_y}"/>'
        f'<text x="{(_PLOT_LEFT + _PLOT_WIDTH - _PLOT_RIGHT) / 2}" y="{axis_y + 38}" text-anchor="middle">'
        "speedup vs reference (log scale; right is faster)</text>"
    )
    reference_x = scale.x(1.0)
    parts.append(
        f'<line id="reference-line" class="reference" x1="{reference_x:.1f}" y1="{_PLOT_TOP - 6}" '
        f'x2="{reference_x:.1f}" y2="{axis_y}"/>'
        f'<text x="{reference_x:.1f}" y="{_PLOT_TOP - 10}" text-anchor="middle">reference 1×</text>'
    )
    for row, function in enumerate(_FUNCTIONS):
        center = _PLOT_TOP + _ROW_HEIGHT * row + _ROW_HEIGHT / 2
        for position, entry in enumerate(entries):
            figure: SpeedFigure = getattr(entry, function)
            if figure.speedup_vs_reference is None:
                continue
            y = center + (position % _LANES - _LANES // 2) * _LANE_SPACING
            label = f"{entry.student}: {function} {_format_speed(figure)}"
            if figure.ci_low is not None and figure.ci_high is not None:
                parts.append(
                    f'<line class="ci {function}" x1="{scale.x(figure.ci_low):.1f}" y1="{y:.1f}" '
                    f'x2="{scale.x(figure.ci_high):.1f}" y2="{y:.1f}"/>'
                )
            parts.append(
                f'<circle class="speedup {function}" cx="{scale.x(figure.speedup_vs_reference):.1f}" cy="{y:.1f}" '
                f'r="{_DOT_RADIUS}" data-student="{esc(entry.student)}" data-function="{function}" '
                f'data-speedup="{figure.speedup_vs_reference!r}"><title>{esc(label)}</title></circle>'
            )
    parts.append("</svg>")
    return "".join(parts)


# ------------------------------------------------------------------------------ csv

# A spreadsheet opening the CSV runs a cell that starts with one of these as a formula.
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text


def _csv_number(value: float) -> str:
    """Plain decimal, no float noise: 7.5 -> "7.5", 10.0 -> "10", 0.1 + 0.2 -> "0.3"."""
    return f"{round(value, SCORE_DECIMALS):.{SCORE_DECIMALS}f}".rstrip("0").rstrip(".")


def scores_csv(results: list[GradeResult]) -> str:
    """The gradebook import: ``student_id,score,max_score``, one row per student, by id.

    Built from the results, not from a board, because an anonymized board has no ids.
    A not-gradable result gets an empty score: the grader failed, and a gradebook
    must not read that as a zero. Ids that a spreadsheet would run as a formula are
    prefixed with a quote.
    """
    validate_results(results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")  # "\n": the file is also diffed and read in terminals
    writer.writerow(["student_id", "score", "max_score"])
    for result in sorted(results, key=lambda r: r.submission.id):
        score = _csv_number(result.score) if result.gradable else ""
        writer.writerow([_spreadsheet_safe(result.submission.id), score, _csv_number(result.max_score)])
    return buffer.getvalue()
