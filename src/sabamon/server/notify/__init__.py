"""server.notify."""
