"""Projections: the cadre supervision information base, built from both services' events."""
