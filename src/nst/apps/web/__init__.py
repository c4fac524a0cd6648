"""``nst serve``: the FastAPI app (:mod:`~nst.apps.web.app`), the form it reads into a run
(:mod:`~nst.apps.web.form`), what keeps strangers out (:mod:`~nst.apps.web.guards`), its queue of
runs (:mod:`~nst.apps.web.queue`, each run's job in :mod:`~nst.apps.web.jobs`) and its page (``static/``)."""
