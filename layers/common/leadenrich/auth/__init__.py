"""API keys (bound to workspaces) and per-workspace quotas: the ports and the domain rules.

The adapters are `leadenrich.aws.dynamo_keys` and `leadenrich.aws.dynamo_quota` (only `leadenrich/aws/`
touches AWS).
"""
