"""`headsup`, the operator tools: preview, check-templates, simulate, outbox (all local, no AWS)."""
