"""Pure models and rules: what the business's records mean and what a customer should be told.

Nothing here talks to AWS; every rule is a function over plain data, testable on its own.
"""
