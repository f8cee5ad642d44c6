"""The only modules that talk to AWS: one small adapter per table, queue, topic and provider.

Each takes an optional boto3 client, so tests pass moto or an in-memory fake instead.
"""
