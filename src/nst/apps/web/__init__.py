"""``nst serve``: the FastAPI app (:mod:`~nst.apps.web.app`), its queue of runs
(:mod:`~nst.apps.web.jobs`) and its page (``static/``)."""
