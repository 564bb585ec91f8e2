"""Reviewing an export: a streamed index of its rows (NumPy columns), the fields to filter
and sort by, the review decisions (review.jsonl), the samples' overlays. Qt-free.
"""
