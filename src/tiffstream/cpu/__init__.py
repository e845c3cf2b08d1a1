"""CPU backend: decode plans to numpy arrays with imagecodecs, chunks in a thread pool."""
