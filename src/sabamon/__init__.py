"""sabamon: self-hosted server monitoring."""

__version__ = "0.1.0"
