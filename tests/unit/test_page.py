"""The web page against the declarations it sends: each control named after a setting has that
setting's choices and default, no control or script names a setting that does not exist, and
every setting the form takes has a control. Read from the static files (no browser: what the
page sends is tests/test_browser.py's)."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from nst.apps.web.config import STYLE_STRENGTH, WEB_SETTINGS
from nst.apps.web.page import STATIC
from nst.options import SETTINGS

# What the form sends, and what each field is read as (nst.apps.web.form._options).
FORM_SETTINGS = {setting.name: setting for setting in (*WEB_SETTINGS, STYLE_STRENGTH)}
# The files the form sends by name (nst.apps.web.form.request_from_form): the photo and paintings are
# sent by the script from its pickers, the mask by a control.
FILE_FIELDS = ("content", "style", "mask")


@dataclass
class Control:
    """A form control as the page declares it: its tag and attributes, and a select's options."""

    tag: str
    attributes: dict[str, str]
    options: list[dict[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.attributes.get("name", "")

    @property
    def first_value(self) -> str:
        """What the page sends until someone changes it."""
        if self.tag == "select":
            chosen = [option for option in self.options if "selected" in option] or self.options[:1]
            return chosen[0]["value"]
        if self.attributes.get("type") == "checkbox":
            return "on" if "checked" in self.attributes else "off"
        return self.attributes.get("value", "")


class _Controls(HTMLParser):
    """The page's inputs and selects (with their options), in order, and every element's id."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[Control] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag in ("input", "select", "textarea"):
            self.controls.append(Control(tag, attributes))
        elif tag == "option":
            self.controls[-1].options.append(attributes)


@pytest.fixture(scope="module")
def page() -> _Controls:
    parser = _Controls()
    parser.feed((STATIC / "index.html").read_text())
    return parser


@pytest.fixture(scope="module")
def script() -> str:
    return (STATIC / "app.js").read_text()


def named(page: _Controls) -> dict[str, Control]:
    controls = [control for control in page.controls if control.name]
    assert len({control.name for control in controls}) == len(controls), "two controls send one setting"
    return {control.name: control for control in controls}


def test_each_control_named_after_a_setting_has_its_choices_and_default(page):
    for name, control in named(page).items():
        if control.attributes.get("type") == "file":
            assert name in FILE_FIELDS and name in SETTINGS, f"a file sent as {name!r}, which nst does not read"
            continue
        assert name in FORM_SETTINGS, f"the page has a control for {name!r}, which the form does not take"
        setting = FORM_SETTINGS[name]
        assert setting.from_text(control.first_value) == setting.default, f"{name}: the page's default is not nst's"
        if control.tag == "select":
            offered = [option["value"] for option in control.options]
            expected = [""] * (setting.default is None) + list(setting.choices or ())
            assert offered == expected, f"{name}: the page offers {offered}, nst takes {expected}"
        else:
            assert not setting.choices, f"{name}: a setting with choices needs a select"
        if control.attributes.get("type") == "number":
            assert setting.kind in ("int", "float"), f"{name}: a number box for a {setting.kind} setting"
            assert setting.kind == "float" or control.attributes.get("step") == "1", f"{name}: whole numbers only"


def test_every_setting_the_form_takes_has_a_control(page, script):
    """Those without a control of their own in the page get one made from /api/config's list of
    WEB_SETTINGS (app.js: addMoreSettings, which skips those the form already names): the page's
    own setting, the style strength, is not in that list and needs its control."""
    missing = set(FORM_SETTINGS) - set(named(page))
    assert missing <= {setting.name for setting in WEB_SETTINGS}
    assert re.search(r"namedItem\(setting\.name\)\) continue", script), "app.js makes no control for the others"


def test_the_page_stops_runs_as_nst_does_unless_told(page):
    """Steps and time budget share one place: a choice between them, each with its own control, and
    the one not chosen at first is off (not sent), so that the first form sends nst's defaults."""
    controls = named(page)
    limit = next(control for control in page.controls if control.attributes.get("id") == "limit")
    limits = [option["value"] for option in limit.options]
    assert sorted(limits) == ["steps", "time_budget"]
    chosen = limit.first_value
    assert chosen == ("time_budget" if SETTINGS["time_budget"].default is not None else "steps")
    assert all(("disabled" in controls[name].attributes) == (name != chosen) for name in limits)


def test_the_script_names_only_settings_and_elements_that_exist(page, script):
    assert set(re.findall(r"\bdefaults\.(\w+)", script)) <= set(FORM_SETTINGS)
    assert set(re.findall(r'\$\("([\w-]+)"\)', script)) <= page.ids
    assert set(re.findall(r'form\.append\("(\w+)"', script)) <= set(FORM_SETTINGS) | set(FILE_FIELDS)
    assert set(re.findall(r'image\("(\w+)"', script)) <= set(FILE_FIELDS)
