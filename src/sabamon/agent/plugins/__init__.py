"""agent.plugins."""
