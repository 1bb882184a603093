"""mcond."""
