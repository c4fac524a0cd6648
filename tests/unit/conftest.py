"""The unit tier: every test in this folder is a unit test (tests/conftest.py marks it so), and none
may load a deep-learning library, Ray or a browser, which is what lets `make check` run them all in
seconds. Collecting this folder loads none of them (checked once all is collected, when only this
folder was), and a test that loads one fails."""

import sys

import pytest

HEAVY = ("tensorflow", "keras", "jax", "torch", "ray", "playwright")


def loaded() -> set[str]:
    return {name for name in HEAVY if name in sys.modules}


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    here = session.config.rootpath / "tests" / "unit"
    if session.items and all(here in item.path.parents for item in session.items) and loaded():
        raise pytest.UsageError(
            f"collecting the unit tests loaded {', '.join(sorted(loaded()))}: make check stays light"
        )


@pytest.fixture(autouse=True)
def loads_nothing_heavy(request: pytest.FixtureRequest):
    before = loaded()
    yield
    assert loaded() <= before, f"{request.node.nodeid} loaded {', '.join(sorted(loaded() - before))}: not a unit test"
