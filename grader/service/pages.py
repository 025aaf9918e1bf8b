"""The server's pages, rendered here, with no build step and no third-party asset.

- ``/``: the batch's own leaderboard page (``grader.publish.leaderboard_render``), made live: a
  small script, allowed by its hash in the Content-Security-Policy, listens to /events
  (server-sent events) and swaps in the new page when a grading finishes. With scripts off
  the page is complete as it is and refreshes itself every 30 s (a <noscript> refresh).
- ``/me``: a student's own submissions with their full feedback, leading with what to fix:
  the score and the failed checks (each with its case, hint and what-if), then the speed
  figures and a small plot of each against the reference, then the passed checks folded
  per group ("8 of 8 passed"), the notes and what their code printed. At phone width no
  identifier of up to 32 characters is broken mid-word (each is one unbreakable <code>);
  a longer token and a failed check's text wrap anywhere, so the page never scrolls
  sideways; tracebacks and tables scroll sideways in their own box instead of wrapping.

Every string that comes from a student or a result is escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import re

from grader.publish.leaderboard_render import CONTENT_SECURITY_POLICY as STATIC_PAGE_POLICY
from grader.grading.result import GradeResult
from grader.grading.feedback_order import fix_list, group_tallies, is_load_failure, points, tally_words
from grader.grading.result_words import describe_speed, describe_what_if

LIVE_SCRIPT = (
    "(function(){var s=new EventSource('/events');s.onmessage=function(){"
    "fetch('/',{cache:'no-store'}).then(function(r){return r.text();}).then(function(t){"
    "var d=new DOMParser().parseFromString(t,'text/html');document.title=d.title;"
    "document.body.replaceWith(d.body);});};})();"
)


def _script_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


# As strict as the static page's policy, plus exactly one script (by hash) and same-origin fetches.
LIVE_PAGE_POLICY = f"{STATIC_PAGE_POLICY}; script-src {_script_hash(LIVE_SCRIPT)}; connect-src 'self'"
FEEDBACK_PAGE_POLICY = f"{STATIC_PAGE_POLICY}; form-action 'self'"
REFRESH_WITHOUT_SCRIPT_S = 30


def live_leaderboard(static_page: str) -> str:
    """The leaderboard page with the live script and its policy instead of the static one."""
    static_meta = f'<meta http-equiv="Content-Security-Policy" content="{STATIC_PAGE_POLICY}">'
    if static_meta not in static_page:  # the renderer changed: fail loudly, never serve a looser page
        raise RuntimeError("the leaderboard page no longer carries the expected Content-Security-Policy")
    page = static_page.replace(static_meta, (
        f'<meta http-equiv="Content-Security-Policy" content="{LIVE_PAGE_POLICY}">\n'
        f'<noscript><meta http-equiv="refresh" content="{REFRESH_WITHOUT_SCRIPT_S}"></noscript>'))
    page = page.replace("</h1>", '</h1>\n<p class="meta"><a href="/me">Your submissions and feedback</a></p>', 1)
    return page.replace("</body>", f"<script>{LIVE_SCRIPT}</script>\n</body>", 1)


_STYLE = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;line-height:1.4;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-top:1px solid #ccc;padding-top:1rem}
.upload-name{overflow-wrap:anywhere}
code.id{white-space:nowrap;font-size:.95em}code.id.long{white-space:normal;overflow-wrap:anywhere}
li.failed-check p{overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.3rem;text-align:left;
vertical-align:top}.passed{color:#1a7f37}.failed{color:#b42318}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem;max-height:20rem;overflow:auto;max-width:100%;box-sizing:border-box}
ol.to-fix{padding-left:1.2rem}ol.to-fix>li{margin-bottom:1rem}
.hint{background:#fff4d6;padding:.3rem .5rem}.what-if{color:#0b5cad}
details{margin:.3rem 0}summary{cursor:pointer}
.meta{color:#555;font-size:.9rem}svg{max-width:100%;height:auto}input{font-size:1rem;max-width:100%}
"""

# An identifier this long or shorter stays on one line (the API's names are at most ~25); a
# longer token (a name a student chose) may wrap, so it cannot push a phone's page sideways.
UNBROKEN_CHARS = 32

# A word of letters, digits, '_', '.' and '-' (a bundle's group spatial-batchnorm.forward_notebook);
# those with an underscore are identifiers (conv_forward_naive, bn_param), kept on one line.
WORD = re.compile(r"\b[A-Za-z][\w.-]*\w")


def words(text: str) -> str:
    """Escaped text with each identifier in a <code class="id">, unbreakable up to
    UNBROKEN_CHARS characters."""
    parts, last = [], 0
    for match in WORD.finditer(text):
        if "_" not in match.group():
            continue
        parts.append(html.escape(text[last:match.start()]))
        if len(match.group()) <= UNBROKEN_CHARS:
            parts.append(f'<code class="id">{html.escape(match.group())}</code>')
        else:  # it may wrap: at a '.' or '-' first (a bundle's group), anywhere if it must
            parts.append(f'<code class="id long">{html.escape(match.group()).replace(".", ".<wbr>")}</code>')
        last = match.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def page(title: str, body: list[str]) -> str:
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{FEEDBACK_PAGE_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
        *body, "</body>", "</html>", ""])


def login_page(message: str = "") -> str:
    return page("Your feedback", [
        "<h1>Your feedback</h1>",
        f'<p class="failed">{html.escape(message)}</p>' if message else "",
        '<form method="post" action="/me"><p><label>Your token<br>'
        '<input name="token" type="password" autocomplete="current-password" size="50" required></label></p>'
        '<p><button type="submit">Show my submissions</button></p></form>',
        '<p class="meta"><a href="/">The leaderboard</a></p>'])


def feedback_page(student_id: str, name: str, jobs: list[tuple], positions: dict[int, int]) -> str:
    """``jobs``: (submission row, result JSON or None), newest first."""
    esc = html.escape
    body = [f"<h1>Submissions of {esc(name or student_id)}</h1>",
            '<p class="meta"><a href="/">The leaderboard</a> · this page does not refresh by itself: '
            "reload it to see a grading finish.</p>"]
    if not jobs:
        body.append("<p>No submission yet.</p>")
    for row, result_json in jobs:
        # The name the student uploaded (their layers.py), not the staged file's internal name.
        shown_name = getattr(row, "upload_name", None) or row.filename
        body.append(f'<h2 id="submission-{row.id}">Submission {row.id}: '
                    f'<span class="upload-name">{esc(shown_name)}</span></h2>')
        if row.status == "queued":
            body.append(f"<p>Queued, position {positions.get(row.id, '?')}.</p>")
        elif row.status == "running":
            body.append("<p>Being graded now.</p>")
        elif row.status == "rejected":
            body.append(f"<p class=\"failed\">Rejected: the grader could not load this file, so it was not graded "
                        f"and does not count against your submission limit. {esc(row.message or '')}</p>")
        elif row.status == "failed":
            body.append(f"<p class=\"failed\">The grader failed (this is not a grade; staff will regrade): "
                        f"{esc(row.message or '')}</p>")
        elif result_json:
            body += _result_html(GradeResult.model_validate_json(result_json))
    return page(f"Feedback: {student_id}", body)


def _result_html(result: GradeResult) -> list[str]:
    """What to fix first (the score, the failed checks), then the speed, then what passed."""
    esc = html.escape
    parts = [f'<p class="score"><strong>Score {result.score:g} / {result.max_score:g}</strong>'
             + ("" if result.gradable else " (not gradable: the grader failed, this is not a grade)") + "</p>"]
    if result.failure:
        parts.append(f"<pre>{esc(result.failure.message)}</pre>")
    parts += _failed_checks(result)
    if result.what_if is not None:
        parts.append(f'<h3>What if</h3><pre class="what-if">{esc(describe_what_if(result.what_if))}</pre>')
    if result.notes:
        parts.append("<h3>Notes</h3><ul>" + "".join(f"<li>{words(n)}</li>" for n in result.notes) + "</ul>")
    parts.append('<h3 class="speed">Speed</h3><ul>')
    for timing in result.timing:
        parts.append(f"<li>{words(timing.call)}: {words(describe_speed(timing))}</li>")
    parts.append("</ul>")
    parts.append(_speed_plot([t for t in result.timing if t.measured and t.speedup_vs_reference]))
    parts += _passed_checks(result)
    if result.student_output:
        parts.append(f"<h3>What your code printed</h3><pre>{esc(result.student_output)}</pre>")
    return parts


def _failed_checks(result: GradeResult) -> list[str]:
    """Each failed check: its name and case, the message's first line, its hint (in full the
    first time), the rest (a traceback) folded, and what a mechanically repaired copy did on it."""
    fixes = fix_list(result)
    if not fixes.failed:
        return [f'<p class="passed">All {len(result.checks)} checks passed.</p>']
    count = len(fixes.failed)
    parts = [f'<h3 class="to-fix">What to fix: {count} failed check{"s" if count != 1 else ""}</h3>',
             '<ol class="to-fix">']
    for entry in fixes.listed:
        check = entry.check
        item = [f'<li class="failed-check" value="{entry.number}" data-check="{html.escape(check.id)}">'
                f'<strong>{words(check.name)}</strong> '
                f'({points(check.score)} / {points(check.max_score)} points, {words(check.group)})']
        if is_load_failure(entry) and result.failure:  # its message, hint and all, is the failure shown above
            parts.append("".join(item) + "<p>Failed: the message above says why.</p></li>")
            continue
        item.append(f"<p>{words(entry.first_line)}</p>")
        item += [f'<p class="hint">{words(hint)}</p>' for hint in entry.hints]
        if entry.same_hint_as is not None:
            item.append(f'<p class="hint">Hint: the same as for check {entry.same_hint_as} above.</p>')
        if entry.details:
            item.append(f"<details><summary>Details</summary><pre>{html.escape(entry.details)}</pre></details>")
        if entry.what_if:
            item.append(f'<p class="what-if">{words(entry.what_if)}</p>')
        parts.append("".join(item) + "</li>")
    parts.append("</ol>")
    if fixes.not_run:  # each only points to the load check
        parts.append(f'<p class="not-run">{html.escape(fixes.not_run_words("check"))}</p>')
    return parts


def _passed_checks(result: GradeResult) -> list[str]:
    """The passed checks, folded per rubric group: "forward_hidden: 8 of 8 passed"."""
    parts = ['<h3 class="passed-checks">Passed checks</h3>']
    for tally in group_tallies(result):
        parts.append(f'<details class="group" data-group="{html.escape(tally.group)}"><summary>'
                     f"{words(tally_words(tally))}</summary>")
        if tally.passed:
            parts.append('<div class="scroll"><table><tr><th>Check</th><th>Message</th></tr>')
            parts += [f"<tr><td>{words(c.name)}</td><td>{words(c.message)}</td></tr>" for c in tally.passed]
            parts.append("</table></div>")
        parts.append("</details>")
    return parts


def _speed_plot(timings) -> str:
    """Each measured function on a log axis from 0.01x to 100x the reference: the dot its
    figure, the bar its interval, the dashed line the reference."""
    if not timings:
        return ""
    width, row, left, right = 600, 40, 90, 20

    def x(value: float) -> float:
        clipped = min(max(value, 0.01), 100.0)
        return left + (math.log10(clipped) + 2) / 4 * (width - left - right)

    height = row * len(timings) + 30
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="speed against the reference">',
             f'<line x1="{x(1):.1f}" y1="0" x2="{x(1):.1f}" y2="{height - 20}" stroke="#888" stroke-dasharray="4"/>']
    for tick in (0.01, 0.1, 1, 10, 100):
        parts.append(f'<text x="{x(tick):.1f}" y="{height - 5}" font-size="11" text-anchor="middle">{tick:g}×</text>')
    for index, timing in enumerate(timings):
        y = row * index + row / 2
        parts.append(f'<text x="0" y="{y + 4:.1f}" font-size="13">{html.escape(timing.call)}</text>')
        if timing.ci_low and timing.ci_high:
            parts.append(f'<line x1="{x(timing.ci_low):.1f}" y1="{y:.1f}" x2="{x(timing.ci_high):.1f}" y2="{y:.1f}" '
                         'stroke="#9ec5fe" stroke-width="8"/>')
        parts.append(f'<circle cx="{x(timing.speedup_vs_reference):.1f}" cy="{y:.1f}" r="5" fill="#0b5cad"/>')
    parts.append("</svg>")
    return "".join(parts)
