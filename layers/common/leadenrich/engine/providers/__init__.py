"""HTTP clients for the paid providers (Hunter.io v2, Perplexity Agent API) and their outcome types."""
