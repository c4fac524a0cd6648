"""``python -m nst.apps.cli``, as when the command was one module (``python -m nst`` is the same)."""

from nst.apps.cli import main

if __name__ == "__main__":  # pragma: no cover (tests/test_layers.py imports every module of the front ends)
    raise SystemExit(main())
