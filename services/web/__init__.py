"""Server-rendered pages for operators, handlers, leaders and the public (issue 5).

``pages.install(app, services, desks)`` adds the routes of ``desks``, the stylesheet and the
HTML error pages to a process's FastAPI app: the embedded system installs every desk;
``jiandu intake-api``, ``jiandu casework`` and ``jiandu web`` each the desks of
``pages.PROCESS_DESKS`` (decision record 0031).
"""
