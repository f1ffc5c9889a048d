"""Laptop-side tools: the `enrich` command line and the provider simulator (never shipped to Lambda)."""
