"""What every function stands on: observability, settings, batch processing, cold start, errors."""
