"""Contracts of everything that crosses a boundary: submissions, events on Kafka, API views."""
