"""Bill-increase detector: a bill that went up enough to be worth telling the customer about."""
