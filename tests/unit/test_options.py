"""The one declaration of each setting: the command line's parsers, the web form and
docs/options.md are made from it, and agree with it; what settings mean for a run (blend weights,
XLA, the options a PNG reproduces)."""

import dataclasses

import pytest

from nst.apps import cli, options_page
from nst.errors import NstError
from nst.options import ADAM_EPSILON, LOSS_WEIGHTS, PRESETS, PRINT_STEP_RATIO, SETTINGS, VIEWING_SIZE, Options
from nst.run import ladder
from tests.helpers import ROOT


def test_the_options_page_is_made_from_the_declarations():
    page = ROOT / options_page.OPTIONS_PAGE
    assert page.read_text() == options_page.options_page(), (
        f"{page} is stale: run .venv/bin/python docs/make_options.py"
    )


def test_every_field_of_options_is_declared_and_every_flag_parses_to_its_default():
    assert list(SETTINGS) == [field.name for field in dataclasses.fields(Options)]
    # Three are declared unset and resolved by the normalization (their measured values).
    resolved = dict(zip(("content_weight", "style_weight"), LOSS_WEIGHTS[Options().normalization], strict=True))
    resolved["epsilon"] = ADAM_EPSILON[Options().normalization]
    for name, setting in SETTINGS.items():
        assert getattr(Options(), name) == resolved.get(name, setting.default), name
    assert all(SETTINGS[name].default is None for name in resolved)
    for name, command in cli.commands().items():
        parsed = vars(cli.build_parser().commands[name].parse_args(_required_arguments(name)))
        for setting in [*command.settings, *command.run_settings()]:
            if not setting.required:
                assert parsed[setting.name] == command.defaults.get(setting.name, setting.default), setting.name


def _required_arguments(name: str) -> list[str]:
    return {
        "stylize": ["photo.jpg", "painting.jpg"],
        "score": ["image.png", "--content", "photo.jpg", "--style", "painting.jpg"],
        "reproduce": ["image.png"],
        "serve": [],
        "batch": ["photo.jpg", "--style", "painting.jpg", "-o", "out"],
        "video": ["clip.mp4", "painting.jpg", "-o", "out.mp4"],
    }[name]


def test_each_flag_reaches_the_options_with_the_declared_type():
    flags = ["--style-layers", "block1_conv1, block2_conv1", "--style-blend", "1,2", "--no-jit-compile"]
    run, args = cli.parse(["photo.jpg", "painting.jpg", *flags, "--tv-weight", "1e-3", "--tile", "64"])
    options = cli.options_from(args)
    assert run.__name__ == "_stylize"
    assert options.style_layers == ("block1_conv1", "block2_conv1") and options.style_blend == (1.0, 2.0)
    assert (options.jit_compile, options.tv_weight, options.tile) == (False, 1e-3, 64)


@pytest.mark.parametrize("command", [[], ["batch", "--style", "painting.jpg", "-o", "out"]], ids=["nst", "batch"])
def test_a_preset_is_read_from_the_parsed_arguments_and_explicit_flags_override_it(command):
    arguments = [*command[:1], "photo.jpg", *(command[1:] or ["painting.jpg"])]
    options = cli.options_from(cli.parse([*arguments, "--preset", "spec", "--steps", "7"])[1])
    assert options == Options(**{**PRESETS["spec"], "steps": 7})
    # A file whose name mentions the flag is no preset.
    assert cli.options_from(cli.parse([*arguments, "--mask", "no--preset.png"])[1]) == Options(mask="no--preset.png")


def test_the_commands_are_subparsers_and_a_photo_is_the_default_commands():
    assert cli.parse(["score", "image.png", "--content", "a.jpg", "--style", "b.jpg"])[0].__name__ == "_score"
    assert cli.parse(["serve"])[0].__name__ == "_serve"
    run, args = cli.parse(["video", "clip.mp4", "painting.jpg", "-o", "out.mp4"])
    assert (run.__name__, args.size, args.steps, args.jit_compile) == ("_video", 256, 30, False)
    run, args = cli.parse(["score.jpg", "painting.jpg"])  # a photo, whatever its name
    assert (run.__name__, args.content) == ("_stylize", "score.jpg")


def test_the_help_says_what_the_ladder_does():
    help = " ".join(cli.build_parser().commands["stylize"].format_help().split())
    assert "doubling" not in help and f"each at most {PRINT_STEP_RATIO:g} times the one before" in help
    sizes = ladder.scale_sizes(Options(size=4096))
    beyond = sizes[sizes.index(VIEWING_SIZE) :]  # the painting ladder below it, the print's steps above
    assert max(b / a for a, b in zip(beyond, beyond[1:], strict=False)) <= PRINT_STEP_RATIO


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [("size", " 64 ", 64), ("size", "", 512), ("style_blend", "0.7, 0.3", (0.7, 0.3)), ("preserve_colors", "", None),
     ("balance_style_layers", "on", True), ("style_layers", "block1_conv1,", ("block1_conv1",))],
)  # fmt: skip
def test_a_form_field_is_read_as_its_declaration_says(name, text, value):
    assert SETTINGS[name].from_text(text) == value


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [("size", "abc", "size must be a whole number, got 'abc'"),
     ("time_budget", "soon", "time budget must be a number, got 'soon'"),
     ("style_blend", "1,x", "style blend must be comma-separated numbers, got '1,x'"),
     ("jit_compile", "maybe", "jit compile must be on or off, got 'maybe'")],
)  # fmt: skip
def test_a_form_field_that_cannot_be_read_is_one_line(name, text, message):
    with pytest.raises(NstError, match=f"^{message}$"):
        SETTINGS[name].from_text(text)


def test_blend_weights_are_normalised_and_must_match_the_styles():
    assert Options(style_blend=(3, 1)).blend_weights(2) == (0.75, 0.25)
    assert Options().blend_weights(2) == (0.5, 0.5)
    with pytest.raises(NstError, match="3 weights for 2 style images"):
        Options(style_blend=(1, 1, 1)).blend_weights(2)
    with pytest.raises(NstError, match="style_blend"):
        Options(style_blend=(0, 0))


def test_reproduction_runs_the_whole_run_without_its_checkpoints():
    params = {"steps": 5, "resume": "run.npz", "checkpoint": "run.npz", "content": "photo.jpg", "versions": {}}
    options = Options.for_reproduction(params)
    assert (options.steps, options.resume, options.checkpoint) == (5, None, None)


def test_xla_compiles_where_it_pays_and_in_tiles_unless_told_otherwise():
    print_sizes = Options(size=2048)  # the painting ladder, then a print's larger sizes
    sizes = ladder.scale_sizes(print_sizes)
    assert [ladder.compiles(print_sizes, index) for index in range(len(sizes))] == [False, True, True, True, True, True]
    assert ladder.compiles(print_sizes, 0, tiled=True)  # a tiled size's steps are long
    for told in (False, True):  # --no-jit-compile or --jit-compile: whole or tiled alike
        told_options = Options(size=2048, jit_compile=told)
        assert {ladder.compiles(told_options, 0, tiled=tiled) for tiled in (False, True)} == {told}
