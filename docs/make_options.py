"""Writes docs/options.md from the settings' declarations (nst.apps.options_page).

    .venv/bin/python docs/make_options.py

tests/test_options.py fails when the page in the repository is not what this writes."""

from pathlib import Path

from nst.apps.options_page import OPTIONS_PAGE, options_page

if __name__ == "__main__":
    path = Path(__file__).resolve().parent.parent / OPTIONS_PAGE
    path.write_text(options_page())
    print(f"wrote {path}")
