"""The desks' pages: one module per desk, each with its own ``build_router(services)``."""
