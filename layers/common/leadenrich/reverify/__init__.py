"""Re-verification of stored addresses as data decays (docs/reverification.md)."""
