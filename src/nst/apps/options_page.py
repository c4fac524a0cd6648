"""docs/options.md, made from the settings' declarations (:mod:`nst.options`, the commands of
:mod:`nst.apps.cli`, the web form's own in :mod:`nst.apps.web.config`); ``docs/make_options.py``
writes it, and tests/test_options.py fails when the page in the repository is stale."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nst.apps import cli
from nst.apps.web.config import STYLE_STRENGTH
from nst.options import PRESETS, SETTINGS, Setting

OPTIONS_PAGE = "docs/options.md"


def options_page() -> str:
    """docs/options.md: every command and every setting, made from their declarations
    (``docs/make_options.py`` writes it; a test fails when the page is stale)."""
    lines = [
        "# Options",
        "",
        "Back to the [README](../README.md).",
        "",
        "<!-- Made from the settings' declarations (src/nst/options/, src/nst/apps/cli/settings.py,",
        "src/nst/apps/web/config.py) by `.venv/bin/python docs/make_options.py`: edit those, then run it.",
        "tests/test_options.py fails when this page is stale. -->",
        "",
        "Every setting is declared once in the code, and `nst --help`, the web form and this page are made",
        "from that declaration. A setting of a run is also a keyword of `nst.stylize` and a field of",
        "`nst.Options` (`--style-weight 0.1` is `style_weight=0.1`). *web*: the web app's form may set it.",
        "",
        "## Commands",
        "",
        "| command | what it does |",
        "|---|---|",
        *(f"| `{command.synopsis}` | {command.summary} |" for command in cli.commands().values()),
    ]
    for command in cli.commands().values():
        groups = dict.fromkeys(setting.group for setting in command.run_settings())
        lines += ["", f"### {command.prog}", "", command.description, "", f"    {command.synopsis}", ""]
        if command.settings:
            lines += _settings_table(command.settings, {})
        if groups:
            links = ", ".join(f"[{group}](#{group.replace(' ', '-')})" for group in groups)
            lines += ["", f"And the settings of a run: {links}."]
    lines += ["", "## Settings of a run"]
    run_settings = [setting for setting in SETTINGS.values() if setting.commands]
    for group in dict.fromkeys(setting.group for setting in run_settings):
        in_group = [setting for setting in run_settings if setting.group == group]
        taken = dict.fromkeys(name for setting in in_group for name in setting.commands)
        overrides = {command.name: command.defaults for command in cli.commands().values() if command.defaults}
        lines += ["", f"### {group}", "", f"Taken by {_command_names(taken)}.", ""]
        lines += _settings_table(in_group, overrides, taken)
    lines += ["", "### presets", "", "`--preset NAME` starts from these settings; explicit options override them.", ""]
    for name, values in PRESETS.items():
        shown = ", ".join(
            f"no `{SETTINGS[key].flag}`" if value is None else f"`{SETTINGS[key].flag} {SETTINGS[key].shown(value)}`"
            for key, value in values.items()
        )
        lines.append(f"- `{name}`: {shown}")
    python_only = [setting for setting in SETTINGS.values() if not setting.commands]
    lines += ["", "### Python only", "", "Keywords of `nst.stylize` with no flag:", ""]
    lines += [
        f"- `{setting.name}` (default `{setting.shown(setting.default)}`): {setting.help}" for setting in python_only
    ]
    web = [setting.name for setting in SETTINGS.values() if setting.web]
    lines += [
        "",
        "## The web form",
        "",
        f"The form of `nst serve` may set {', '.join(f'`{name}`' for name in web)}, and `{STYLE_STRENGTH.name}`,"
        f" which {STYLE_STRENGTH.help} (default {STYLE_STRENGTH.shown(STYLE_STRENGTH.default)}).",
        STYLE_STRENGTH.details,
        "A setting declared with `web=True` is accepted from the form and offered on the page.",
    ]
    return "\n".join(lines) + "\n"


def _settings_table(
    settings: Sequence[Setting], overrides: dict[str, dict[str, Any]], taken: dict[str, None] | None = None
) -> list[str]:
    """A Markdown table: the flag, its default (and a command's own), what it does."""
    rows = ["| option | default | what it does |", "|---|---|---|"]
    for setting in settings:
        flags = ", ".join(setting.flags or (setting.flag,))
        if setting.kind == "switch":
            flags = f"{setting.flag}, --no-{setting.flag[2:]}"
        metavar = setting.metavar or ("{" + ",".join(setting.choices) + "}" if setting.choices else None)
        metavar = metavar or {"int": "N", "float": "X", "text": setting.name.upper()}.get(setting.kind)
        option = flags if setting.kind in ("flag", "switch") else f"{flags} {metavar}"
        default = (
            "required" if setting.required else "" if setting.default is None else f"`{setting.shown(setting.default)}`"
        )
        own = [f"`nst {name}`: `{setting.shown(values[setting.name])}`" for name, values in overrides.items()
               if values.get(setting.name) is not None]  # fmt: skip
        default = "; ".join(part for part in [default, *own] if part)
        what = " ".join(part for part in (setting.help.rstrip(".") + ".", setting.details) if part)
        if taken is not None and tuple(taken) != setting.commands:
            what += f" Only {_command_names(setting.commands)}."
        web = " *web*" if setting.web else ""
        rows.append(f"| `{option}` | {default} | {what}{web} |".replace("|ray:", "\\|ray:"))
    return rows


def _command_names(names: Sequence[str]) -> str:
    return ", ".join(f"`{cli.commands()[name].prog}`" for name in names)
