"""agent.metrics."""
