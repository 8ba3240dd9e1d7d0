"""Serve the embedded all-in-one on SQLite in a temporary folder, on a fixed clock, with an
account (and a bearer token) for every role: for running the schemathesis command line
against it by hand (the suite itself runs in-process, tests/fuzz/test_contract.py).

    .venv/bin/python -m tests.fuzz.serve --port 8765 --tokens /tmp/tokens.json
    .venv/bin/st run http://127.0.0.1:8765/openapi.json \
        -H "Authorization: Bearer $(jq -r .operator /tmp/tokens.json)" --max-examples 20
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import uvicorn

from tests.fuzz.apps import ROLE_ACCOUNTS, embedded_system
from tests.support.auth import bearer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--tokens", type=Path, required=True, help="where to write the tokens")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jiandu-fuzz-") as folder:
        system = embedded_system(Path(folder))
        tokens = {
            role.value: bearer(system.accounts, name, role, **extra)["Authorization"].split()[1]
            for name, role, extra in ROLE_ACCOUNTS
        }
        args.tokens.write_text(json.dumps(tokens, indent=2))
        try:
            uvicorn.run(system.web_app(), host="127.0.0.1", port=args.port, log_level="warning")
        finally:
            system.stop()


if __name__ == "__main__":
    main()
