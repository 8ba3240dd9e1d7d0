"""The ``jiandu`` command: the embedded all-in-one, one subcommand per distributed process
(``processes``), and the administration and data commands (``admin``), on one Typer app
(``base``). Importing a module registers its commands, in the order of ``jiandu --help``."""

# isort: off
from services.cli import processes  # noqa: F401  (`up` and the processes first)
from services.cli import admin  # noqa: F401
from services.cli.base import app, configure_logging, serve

# isort: on

__all__ = ["app", "configure_logging", "serve"]
