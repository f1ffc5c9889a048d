"""Supabase adapters (PostgREST through the official client): lead source, email sink and job store.

Imported only when Supabase is configured: a function that does not use it pays nothing at cold start.
"""
