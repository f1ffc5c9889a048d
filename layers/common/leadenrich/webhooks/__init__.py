"""Webhooks: provider events in (verified, recorded once, routed) and signed job callbacks out."""
