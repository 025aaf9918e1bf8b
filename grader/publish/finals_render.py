"""The finals for people: finals.md and one static finals.html beside the board. Student ids
are the only student-supplied strings here; both are escaped for their medium.

    finals_markdown(finals) -> str
    finals_html(finals)     -> str   no script, no fetch (the board's Content Security Policy)
"""

from __future__ import annotations

import html

from grader.grading.result_words import describe_figure
from grader.publish.finals import Finals, FinalsEntry, finals_anchor
from grader.publish.leaderboard_render import _PAGE_STYLE, CONTENT_SECURITY_POLICY, _markdown_text, human_date


def finals_title(finals: Finals) -> str:
    return f"Finals: {finals.title or finals.assignment}"


def _figure(entry: FinalsEntry) -> str:
    if entry.figure is None:
        return "—"
    return describe_figure(entry.figure, entry.ci_low, entry.ci_high, entry.ci_level if entry.ci_low else None)


def _rank(entry: FinalsEntry) -> str:
    return "—" if entry.rank is None else str(entry.rank)


def _rank_interval(entry: FinalsEntry) -> str:
    if entry.rank is None:
        return f"unranked: {entry.reason}"
    return str(entry.rank_best) if entry.rank_best == entry.rank_worst else f"{entry.rank_best}-{entry.rank_worst}"


def _meta(finals: Finals) -> str:
    return (f"Generated {human_date(finals.generated_at)} by convgrade {finals.grader_version}: "
            f"{len(finals.entries)} finalists (the top {finals.top} of the board and everyone whose interval overlaps "
            f"the {finals.top}th's), {len(finals.rounds)} of {finals.rounds_planned} rounds, seed {finals.seed}.")


def _adjacent(finals: Finals) -> list[tuple[str, str, str]]:
    """(faster-looking, next, 'ratio (interval), verdict') for each neighbour pair in rank order
    (ranked finalists only: the unranked ones are in no comparison)."""
    by_pair = {(c.a, c.b): c for c in finals.comparisons}
    rows = []
    for upper, lower in zip(finals.entries, finals.entries[1:]):
        pair = by_pair.get((upper.student_id, lower.student_id))
        flip = pair is None
        pair = pair or by_pair.get((lower.student_id, upper.student_id))
        if pair is None:
            continue
        ratio, low, high = pair.ratio, pair.ci_low, pair.ci_high
        if flip:
            ratio, low, high = 1 / ratio, (1 / high if high else None), (1 / low if low else None)
        interval = f" (95% interval {low:.4f}-{high:.4f})" if low and high else ""
        # The pair's own verdict (Holm-corrected), not its lone interval's: they can differ.
        verdict = "not told apart" if pair.verdict == "not different" else "told apart"
        rows.append((upper.student_id, lower.student_id, f"{ratio:.4f}x{interval}: {verdict}"))
    return rows


def finals_markdown(finals: Finals) -> str:
    md = _markdown_text
    lines = [f"# {md(finals_title(finals))}", "", md(_meta(finals)) + f" Back to the [board]({finals.board}).", "",
             md(finals.method), "",
             "| Rank | Rank interval | Student | Speed over the rounds | Rounds | Board rank |",
             "|---:|---:|---|---|---:|---:|"]
    lines += [f"| {_rank(e)} | {md(_rank_interval(e))} | {md(e.student_id)} | {md(_figure(e))} | {e.rounds_timed} | "
              f"{e.board_rank or '—'} |" for e in finals.entries]
    lines += ["", "## Neighbours, paired per round", "", "| Ahead | Next | Ratio of their figures |", "|---|---|---|"]
    lines += [f"| {md(a)} | {md(b)} | {md(text)} |" for a, b, text in _adjacent(finals)]
    lines += ["", "## Each round", "", "| Student | " + " | ".join(f"Round {r.round}" for r in finals.rounds) + " |",
              "|---|" + "---:|" * len(finals.rounds)]
    for entry in finals.entries:
        cells = []
        for finals_round in finals.rounds:
            grading = next((g for g in finals_round.gradings if g.student_id == entry.student_id), None)
            cells.append(f"{grading.figure:.4f}" if grading and grading.figure else "—")
        lines.append(f"| {md(entry.student_id)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def finals_html(finals: Finals) -> str:
    esc = html.escape
    title = finals_title(finals)
    rows = "\n".join(
        f'<tr class="entry" id="{esc(finals_anchor(e.student_id))}" data-student="{esc(e.student_id)}" data-rank="{_rank(e)}">'
        f'<td class="number" data-label="Rank">{_rank(e)}</td>'
        f'<td class="number" data-label="Rank interval">{esc(_rank_interval(e))}</td>'
        f'<td class="name" data-label="Student">{esc(e.student_id)}</td>'
        f'<td data-label="Speed over the rounds">{esc(_figure(e))}</td>'
        f'<td class="number" data-label="Rounds">{e.rounds_timed}</td>'
        f'<td class="number" data-label="Board rank">{e.board_rank or "—"}</td></tr>'
        for e in finals.entries)
    neighbours = "\n".join(f"<tr><td>{esc(a)}</td><td>{esc(b)}</td><td>{esc(text)}</td></tr>"
                           for a, b, text in _adjacent(finals))
    round_heads = "".join(f'<th class="number">Round {r.round}</th>' for r in finals.rounds)
    round_rows = []
    for entry in finals.entries:
        cells = []
        for finals_round in finals.rounds:
            grading = next((g for g in finals_round.gradings if g.student_id == entry.student_id), None)
            cells.append(f'<td class="number">{grading.figure:.4f}</td>' if grading and grading.figure
                         else '<td class="number">—</td>')
        round_rows.append(f"<tr><td>{esc(entry.student_id)}</td>{''.join(cells)}</tr>")
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>", f"<style>{_PAGE_STYLE}</style>", "</head>", "<body>",
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{esc(_meta(finals))} Back to the <a href="{esc(finals.board)}">board</a>.</p>',
        f'<p class="explanation" id="method">{esc(finals.method)}</p>',
        '<table id="finals" class="board">\n<thead><tr><th class="number">Rank</th><th class="number">Rank interval'
        '</th><th>Student</th><th>Speed over the rounds</th><th class="number">Rounds</th>'
        '<th class="number">Board rank</th></tr></thead>\n<tbody>\n' + rows + "\n</tbody>\n</table>",
        "<h2>Neighbours, paired per round</h2>",
        '<table id="neighbours"><thead><tr><th>Ahead</th><th>Next</th><th>Ratio of their figures</th></tr></thead>'
        "<tbody>\n" + neighbours + "\n</tbody></table>",
        "<h2>Each round</h2>",
        f'<table id="rounds"><thead><tr><th>Student</th>{round_heads}</tr></thead><tbody>\n'
        + "\n".join(round_rows) + "\n</tbody></table>",
        "</body>", "</html>"]) + "\n"
