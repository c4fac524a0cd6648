"""The user pages stay manuals: what to do and what to expect, each figure next to the command
that measures it. How a figure was reached (dated runs, the story of a default, superseded
measurements) belongs in the dated lab notes of docs/notes/, which the user pages link to.

The user pages are README.md and docs/*.md; docs/notes/ is not one of them. A page fails when
it holds, link targets included:

- an ISO date (YYYY-MM-DD): a date says when something was measured, which is a note's business;
  a user page says which command measures it. The notes carry their dates in their titles and in
  their index (docs/notes/README.md), not in their file names, so that a page links to one
  (`[the history](notes/print-4096-again.md)`) without a date.
- words that only a diary uses:
  - "this session", "an earlier session" and the like: the bare word "session" is not matched,
    because the web app's session cookie is a feature a user reads about;
  - "this issue", "the issue('s)": the ticket a change was made for, which a user never sees
    ("an issue of its own" is not matched: it names work not done, which a manual may say);
  - "earlier run", "earlier measurement": a superseded figure, which goes to a note;
  - "(..., latest)", "(..., later)", "(..., last)": the markers of a run log's headings;
  - "another engineer", "today": who else was on the machine, and when.

A page being edited elsewhere may be skipped for now, named in PENDING with what it still needs.

Every link to a heading (`page.md#anchor`) in the pages, the notes, the code and the tests must
lead to a heading that exists: moving text out of a page must not break them.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
USER_PAGES = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]

# Spots being rewritten on other branches while this test was added, skipped until they land:
# page -> the heading of the section to skip (to the next heading of any level), or None for the
# whole page. Remove an entry once its page passes.
PENDING: dict[str, str | None] = {}

DIARY = [
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    re.compile(r"\b(this|that|an earlier|a later|the last|the previous|one) session", re.IGNORECASE),
    re.compile(r"\b(this|the) issue\b", re.IGNORECASE),
    re.compile(r"\bearlier (run|measurement)", re.IGNORECASE),
    re.compile(r"\b(latest|later|last)\)", re.IGNORECASE),
    re.compile(r"\banother engineer", re.IGNORECASE),
    re.compile(r"\btoday", re.IGNORECASE),
]


def _checked_text(page: Path) -> str:
    """The page without a pending section."""
    lines = page.read_text().splitlines()
    name = str(page.relative_to(ROOT))
    if name in PENDING:
        heading = PENDING[name]
        if heading is None:
            return ""
        start = lines.index(heading)  # fails loudly once the heading is renamed: update PENDING
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
        lines = lines[:start] + [""] * (end - start) + lines[end:]
    return "\n".join(lines)


@pytest.mark.parametrize("page", USER_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_a_user_page_holds_no_dates_and_no_diary(page: Path) -> None:
    found = [
        f"{page.relative_to(ROOT)}:{number}: {match.group(0)!r} in {line.strip()[:100]!r}"
        for number, line in enumerate(_checked_text(page).splitlines(), start=1)
        for pattern in DIARY
        for match in pattern.finditer(line)
    ]
    assert not found, "move run logs to docs/notes/ (a note, dated in its title) and link to it:\n" + "\n".join(found)


def test_the_pending_list_names_pages_that_exist() -> None:
    for name, heading in PENDING.items():
        assert (ROOT / name).exists(), name
        assert heading is None or heading in (ROOT / name).read_text().splitlines(), (name, heading)


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings, and its explicit `<a id="...">`s."""
    text = page.read_text()
    prose = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)  # a shell comment is no heading
    headings = re.findall(r"^#+\s+(.*?)\s*$", prose, re.MULTILINE)
    slugs = {re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-") for heading in headings}
    return slugs | set(re.findall(r'<a id="([^"]+)"', text))


LINK = re.compile(r"([\w./-]*?)([\w-]+\.md)#([\w-]+)")


def _linking_files() -> list[Path]:
    files = [ROOT / "README.md", *DOCS.rglob("*.md")]
    for folder, suffixes in ((ROOT / "src", ("*.py", "*.html", "*.js")), (ROOT / "tests", ("*.py",))):
        for suffix in suffixes:
            files += folder.rglob(suffix)
    return [path for path in files if path != Path(__file__)]


def test_every_link_to_a_heading_leads_to_one() -> None:
    broken = []
    for path in _linking_files():
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            for _, name, anchor in LINK.findall(line):
                target = ROOT / name if name == "README.md" else DOCS / name
                if target.exists() and anchor not in _anchors(target):
                    broken.append(f"{path.relative_to(ROOT)}:{number}: {name}#{anchor}")
    assert not broken, "links to headings that do not exist:\n" + "\n".join(broken)
