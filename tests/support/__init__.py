"""Helpers shared by test packages: the backends the processor suite runs on (`backends`)."""
