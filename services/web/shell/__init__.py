"""The pages' shell: what every desk's pages share (decision record 0030).

- ``rendering``: ``render`` and ``page`` (Jinja2 in the reader's language, never cached), the
  navigation and home page of each role, ``see_other``, ``tr``, ``procedure_message``;
- ``access``: who may open which page (``page_roles`` and one annotation per group of readers);
- ``glue``: the posted form and its CSRF check, form strings, people, a case's form context;
- ``desk``: ``Desk`` and ``route`` (a desk's pages are its marked methods; ``needs``: the
  parts it uses), ``PageServices`` (with the parts a process lacks left out, 0031);
- ``errors``: the HTML error pages.

A desk module (services/web/desks/) imports from this package and the shared helpers (forms,
i18n, lists, report_form), never from another desk.
"""

from services.web.lists import MissingPart
from services.web.shell.access import (
    Admin,
    AuditReader,
    CadreReader,
    CandidateActor,
    CandidateReader,
    CaseActor,
    CaseReader,
    Handler,
    IdentityReader,
    IntegrityReader,
    Leader,
    LedgerReader,
    LiaisonReader,
    LookUp,
    Operator,
    PageForbidden,
    ProjectOpener,
    ProjectReader,
    ProjectStepper,
    Queuer,
    ReportReader,
    SelectionProposer,
    SelectionReader,
    SelectionStepper,
    Triager,
    page_roles,
)
from services.web.shell.desk import PARTS, Desk, PageServices, route
from services.web.shell.errors import install_error_pages, is_page
from services.web.shell.glue import (
    Csrf,
    Form,
    case_form_context,
    enum_values,
    form_data,
    handlers,
    people,
    refill,
    strings,
    typed_date,
)
from services.web.shell.rendering import (
    HERE,
    HOME,
    NAVIGATION,
    event_label,
    local_time,
    optional_principal,
    page,
    procedure_message,
    render,
    see_other,
    tr,
)

__all__ = [
    "HERE",
    "HOME",
    "NAVIGATION",
    "PARTS",
    "Admin",
    "AuditReader",
    "CadreReader",
    "CandidateActor",
    "CandidateReader",
    "CaseActor",
    "CaseReader",
    "Csrf",
    "Desk",
    "Form",
    "Handler",
    "IdentityReader",
    "IntegrityReader",
    "Leader",
    "LedgerReader",
    "LiaisonReader",
    "LookUp",
    "MissingPart",
    "Operator",
    "PageForbidden",
    "PageServices",
    "ProjectOpener",
    "ProjectReader",
    "ProjectStepper",
    "Queuer",
    "ReportReader",
    "SelectionProposer",
    "SelectionReader",
    "SelectionStepper",
    "Triager",
    "case_form_context",
    "enum_values",
    "event_label",
    "form_data",
    "handlers",
    "install_error_pages",
    "is_page",
    "local_time",
    "optional_principal",
    "page",
    "page_roles",
    "people",
    "procedure_message",
    "refill",
    "render",
    "route",
    "see_other",
    "strings",
    "tr",
    "typed_date",
]
