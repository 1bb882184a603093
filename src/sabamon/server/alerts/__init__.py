"""server.alerts."""
