"""Intake: every report, from every channel, registered in the ledger; reporter identity in the vault."""
