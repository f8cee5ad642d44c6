"""What customers told us (opt-outs) and what mail providers told us (bounces, complaints)."""
