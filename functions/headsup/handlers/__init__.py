"""Lambda entry points: one thin module per template.yaml function, named after it.

A handler reads its settings once at cold start, builds its adapters, parses the event and calls
one logic function.
"""
