"""Casework: cases opened from accepted reports, and the procedure that follows."""
