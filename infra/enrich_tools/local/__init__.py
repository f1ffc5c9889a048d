"""The embedded local stack (moto in-process, a local API gateway, a scheduler ticking the processor) and
the `enrich run | local | jobs | dlq` commands that drive it or a deployed API.

Nothing heavy is imported here: `enrich domain` and friends load this package for its provider helpers.
"""
