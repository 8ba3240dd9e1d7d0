"""Server-rendered pages for operators, handlers, leaders and the public (issue 5).

``pages.install(app, services)`` adds the routes, the stylesheet and the HTML error pages
to a process's FastAPI app; the embedded system and ``jiandu web`` both call it.
"""
