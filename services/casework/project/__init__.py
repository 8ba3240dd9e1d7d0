"""The SupervisionProject aggregate (立项督查 on a selection, issue 14), in the Selection's
idiom (``services/casework/selection/``).

- ``project.py``: ``SupervisionProject``, its opening (``SupervisionProject.open``),
  ``PROJECT_CONTRACTS``;
- ``record.py``: what a project knows (``ProjectRecord``), the sealed trigger, the events'
  bases;
- ``steps.py``: the events after the opening (with their ``apply``) and their commands;
- ``rules.py``: who may record which step at which stage, and the named rules.

The names below are the package's public surface: import them from here.
"""

from services.casework.project.project import (
    PROJECT_CONTRACTS,
    PROJECT_INTERNAL_FIELDS,
    SupervisionProject,
)

__all__ = ["PROJECT_CONTRACTS", "PROJECT_INTERNAL_FIELDS", "SupervisionProject"]
