"""The README and docs/ pages point only at things that exist.

A page that moves or a heading that is reworded breaks links silently on GitHub, and a command
shown on a page drifts from the CLI and the Makefile. These tests read the pages, the CLI's
own help (through click's test runner: no process starts) and the Makefile, and fail naming
the page, the link or command, and what is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli

ROOT = Path(__file__).resolve().parents[3]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~)")
INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.DOTALL)
# [text](target) or [text](target "title"); an image's ![alt](src) is a link too.
LINK = re.compile(r"\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
CONVGRADE_COMMAND = re.compile(r"(?:\bconvgrade|-m grader)\s+([a-z][a-z-]*)")
MAKE_TARGET = re.compile(r"(?<![\w$(-])make((?:\s+[A-Za-z_][A-Za-z0-9_]*=\S*)*)\s+([a-z][\w-]*)")
MAKEFILE_RULE = re.compile(r"^([A-Za-z0-9_.-][A-Za-z0-9_. -]*?)\s*::?(?!=)", re.MULTILINE)


def split_page(text: str) -> tuple[list[str], list[str]]:
    """The page's prose lines (code blocks left out, inline code blanked) and its code: the
    lines of each fenced or indented block and each inline code span. Links count only in
    prose; commands only in code, where a reader copies them from."""
    outside: list[str] = []
    code: list[str] = []
    fenced = indented = False
    previous_blank = True
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            outside.append("")
        elif fenced:
            code.append(line)
        elif line.startswith("    ") and (indented or previous_blank):
            # An indented code block (it cannot interrupt a paragraph, hence the blank line).
            indented = True
            code.append(line)
        else:
            indented = indented and not line.strip()
            outside.append(line)
        previous_blank = not line.strip()
    # An inline code span may run over lines, never over a blank line.
    prose: list[str] = []
    for paragraph in re.split(r"\n[ \t]*\n", "\n".join(outside)):
        code.extend(match.group(2) for match in INLINE_CODE.finditer(paragraph))
        prose.extend(INLINE_CODE.sub("code", paragraph).splitlines())
    return prose, code


def github_anchor(heading: str) -> str:
    """GitHub's anchor for a heading: the rendered text (markup and link targets dropped),
    lower-cased, every character but letters, digits, '_', '-' and spaces removed, spaces
    turned into hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = text.replace("`", "").replace("*", "")
    text = re.sub(r"(?<!\w)_+|_+(?!\w)", "", text)  # _emphasis_ markers, not snake_case
    text = text.strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in "_- ")
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor on a page, with GitHub's -1, -2 suffixes for repeats."""
    seen: dict[str, int] = {}
    found = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if not match:
            continue
        anchor = github_anchor(match.group(2))
        count = seen.get(anchor, 0)
        found.add(anchor if count == 0 else f"{anchor}-{count}")
        seen[anchor] = count + 1
    return found


def broken_links(page: Path) -> list[str]:
    prose, _ = split_page(page.read_text(encoding="utf-8"))
    broken = []
    for line in prose:
        for target in LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...: not ours to check
                continue
            path_part, _, fragment = target.partition("#")
            destination = (page.parent / path_part).resolve() if path_part else page
            if not destination.exists():
                broken.append(f"{target}: no such file {destination.relative_to(ROOT)}")
            elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
                broken.append(f"{target}: no heading with anchor #{fragment} in {destination.relative_to(ROOT)}")
            elif fragment and destination.suffix != ".md":
                broken.append(f"{target}: an anchor into a file that is not a page")
    return broken


def cli_commands() -> set[str]:
    """The commands `convgrade --help` lists."""
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    listing = result.output.split("Commands:", 1)[1]
    return {line.split()[0] for line in listing.splitlines() if line.startswith("  ") and line.strip()}


def command_options(command: str) -> set[str]:
    """The long options `convgrade COMMAND --help` lists."""
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    return set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", result.output))


def options_shown(snippet: str) -> list[tuple[str, str]]:
    """(command, option) for each long option written after `convgrade COMMAND` in one snippet
    of code (a line of a block, or an inline span, which may run over lines), up to a comment."""
    text = " ".join(line.split(" #", 1)[0] for line in snippet.splitlines())
    shown = []
    for match in CONVGRADE_COMMAND.finditer(text):
        rest = text[match.end():]
        following = CONVGRADE_COMMAND.search(rest)
        rest = rest[:following.start()] if following else rest
        shown += [(match.group(1), option) for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest)]
    return shown


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {name for match in MAKEFILE_RULE.finditer(text) for name in match.group(1).split()
            if not name.startswith(".")}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page: Path):
    assert broken_links(page) == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_convgrade_command_shown_exists(page: Path):
    _, code = split_page(page.read_text(encoding="utf-8"))
    shown = {command for snippet in code for command in CONVGRADE_COMMAND.findall(snippet)}
    assert shown - cli_commands() == set()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_option_shown_after_a_convgrade_command_exists(page: Path):
    _, code = split_page(page.read_text(encoding="utf-8"))
    shown = {pair for snippet in code for pair in options_shown(snippet)}
    known = {command: command_options(command) for command in {command for command, _ in shown} & cli_commands()}
    assert {(command, option) for command, option in shown
            if command in known and option not in known[command]} == set()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_make_target_shown_exists(page: Path):
    _, code = split_page(page.read_text(encoding="utf-8"))
    shown = {target for snippet in code for _, target in MAKE_TARGET.findall(snippet)}
    assert shown - makefile_targets() == set()


def test_the_readme_links_every_docs_page():
    prose, _ = split_page((ROOT / "README.md").read_text(encoding="utf-8"))
    linked = {target.partition("#")[0] for line in prose for target in LINK.findall(line)}
    pages = {f"docs/{page.name}" for page in PAGES if page.parent.name == "docs"}
    assert pages - linked == set()


@pytest.mark.parametrize(("heading", "anchor"), [
    pytest.param("Timing: the figure the class competes on", "timing-the-figure-the-class-competes-on", id="colon"),
    pytest.param("The isolation ladder: without CAP_SYS_ADMIN, or without root",
                 "the-isolation-ladder-without-cap_sys_admin-or-without-root", id="snake-case-kept"),
    pytest.param("Similarity (staff only)", "similarity-staff-only", id="parentheses"),
    pytest.param("Runs: each side's calls in a row", "runs-each-sides-calls-in-a-row", id="apostrophe"),
    pytest.param("The `convgrade serve` *service*", "the-convgrade-serve-service", id="markup"),
    pytest.param("Set-up: two commands", "set-up-two-commands", id="hyphen"),
])
def test_github_anchor_rule(heading: str, anchor: str):
    assert github_anchor(heading) == anchor


def test_the_checks_catch_what_they_look_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The checkers find a missing file, a missing anchor (a fenced comment is no heading),
    an unknown command, option and target, and ignore links inside code."""
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# A page\n\n## Twice\n\n## Twice\n\n## The `convgrade serve` service\n"
                                            "\n```\n# not a heading\n```\n")
    (tmp_path / "Makefile").write_text(".PHONY: test\n$(VENV)/.installed: pyproject.toml\n\ttouch $@\n"
                                       "X := 1\ntest: venv\n\tpytest\n")
    page = tmp_path / "README.md"
    page.write_text("# Title\n\n[ok](docs/a.md#twice-1) [ok](docs/a.md#the-convgrade-serve-service)\n"
                    "[no](docs/a.md#not-a-heading) [gone](docs/b.md) [bad](docs/a.md#nowhere)\n"
                    "[self](#title) [web](https://example.org/x#y) `[code](docs/none.md)`\n\n"
                    "```\n[fenced](docs/none.md)\nconvgrade no-such-command\nmake no-such-target\n```\n"
                    "\n    CI=1 make test    # an indented block is code too\n"
                    "\nRun `convgrade grade x.py --out r.json\n--no-such-option` (a span over two lines).\n")
    assert broken_links(page) == ["docs/a.md#not-a-heading: no heading with anchor #not-a-heading in docs/a.md",
                                  "docs/b.md: no such file docs/b.md",
                                  "docs/a.md#nowhere: no heading with anchor #nowhere in docs/a.md"]
    _, code = split_page(page.read_text())
    assert {c for s in code for c in CONVGRADE_COMMAND.findall(s)} - cli_commands() == {"no-such-command"}
    assert [pair for snippet in code for pair in options_shown(snippet)] == [
        ("grade", "--out"), ("grade", "--no-such-option")]
    assert "--no-such-option" not in command_options("grade")
    assert makefile_targets() == {"test"}
    assert {t for s in code for _, t in MAKE_TARGET.findall(s)} == {"no-such-target", "test"}
