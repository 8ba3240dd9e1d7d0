"""The calendar and the time limits: one home that intake, casework and the projections use.

Pure data and functions, below every service in the import order (it imports only
``schemas`` and third-party packages; decision record 0028):

- ``deadlines``: the working-day calendar of the Chinese official schedule (loaded,
  official, projected or weekends-only years; provisional due dates), calendar months,
  the time-limit table (``TimeLimits``), the deadline state and the due dates events carry;
- ``handling``: the handling-effect table of organizational handling (promotion bars).

Where the tables users correct are stored is ``services.common.config``; how a deadline is
shown is ``services.common.deadline_views``; the case's rules stay in ``services.casework``.
"""
