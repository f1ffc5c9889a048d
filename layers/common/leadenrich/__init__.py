"""The enrichment engine: provider clients, name handling, the waterfall and its cache port.

Free of AWS and of any event shape; the serverless handlers and the command line call into it.
"""
