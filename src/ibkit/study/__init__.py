"""The information-plane study: runs, tidy tables, compression metrics and figures."""
