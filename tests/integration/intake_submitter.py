"""A separate intake process for the group-commit tests (decision 0023): it submits
``--count`` reports over ``--threads`` threads and prints one JSON line per acknowledged
submission (flushed at once: what a client was told). With ``--hang-at-batch N`` the Nth
batch stops inside its transaction, after its rows were sent and before the commit, and
touches ``--marker``: the test then kills the process with SIGKILL, mid-batch.

Run as ``python -m tests.integration.intake_submitter DSN DATA_DIR ...``.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

from services.bootstrap import build_intake
from services.common.settings import Settings
from services.intake.errors import SubmissionContention
from tests.integration.helpers import hotline_report


def body(tag: str, i: int):  # type: ignore[no-untyped-def]
    """The same body for the same index, in every process (a retry sends it again)."""
    if i % 3 == 1:
        return hotline_report(i, summary=f"{tag} 匿名反映（第{i}件）", reporter={"anonymous": True})
    return hotline_report(i, summary=f"{tag} 反映（第{i}件）")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dsn")
    parser.add_argument("data_dir")
    parser.add_argument("--tag", default="p")
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--hang-at-batch", type=int, default=0)
    parser.add_argument("--marker", default="")
    parser.add_argument("--secret-key", required=True, help="the test's key: the same ids")
    args = parser.parse_args()
    settings = Settings(
        database_url=args.dsn, data_dir=Path(args.data_dir), secret_key=args.secret_key
    )
    intake = build_intake(settings)
    committer = intake._committer
    assert committer is not None
    if args.hang_at_batch:
        seen = [0]

        def hang(batch: object) -> None:
            seen[0] += 1
            if seen[0] >= args.hang_at_batch:
                Path(args.marker).write_text("in the transaction, before the commit")
                time.sleep(3600)

        committer.before_commit = hang
    out = threading.Lock()
    indexes = list(range(args.start, args.start + args.count))

    def work(t: int) -> None:
        for i in indexes[t :: args.threads]:
            try:
                receipt = intake.submit(body(args.tag, i), idempotency_key=f"{args.tag}-{i}")
            except SubmissionContention:
                line = {"i": i, "contention": True}
            else:
                line = {"i": i, "report_id": receipt.report_id, "number": receipt.ledger_number}
            with out:
                sys.stdout.write(json.dumps(line) + "\n")
                sys.stdout.flush()

    threads = [threading.Thread(target=work, args=(t,)) for t in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sys.stdout.write(json.dumps({"done": True, "batch_retries": committer.batch_retries}) + "\n")
    sys.stdout.flush()
    intake.close()


if __name__ == "__main__":
    main()
