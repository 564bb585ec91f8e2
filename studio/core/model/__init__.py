"""What a preset and a sample are: spec, params, preset, vocabulary, errors, inputs.
Imports nothing else of studio: every other part of core stands on it.
"""
