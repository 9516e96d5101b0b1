"""torch-fidelity glue: feature extractors and their weights, the metric protocol, scoring.

Nothing is imported here: the modules load torch and torch-fidelity, which the command-line
apps import only when a task runs.
"""
