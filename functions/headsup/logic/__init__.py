"""One orchestrator per stage (detect, index, sweep, deliver, feedback, unsubscribe).

Each takes its adapters as arguments and applies the domain rules to a batch of input.
"""
