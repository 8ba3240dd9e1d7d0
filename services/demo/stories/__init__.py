"""The demo's stories, told with the steps of ``services/demo/steps.py``: a case's ``Plot``
(``plot.py``), the ordinary cases (``ordinary.py``), the featured reports' cases
(``featured_cases.py``) and the reports' triage steps (``triage.py``), all planned by
``planner.py``; and the scenarios run on their own by ``seed``: verdicts per cadre
(``per_cadre.py``), items settled elsewhere (``settling.py``), the sealed report's handover
(``sealed.py``).
"""
