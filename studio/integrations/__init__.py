"""Optional integrations with other libraries (imported lazily; the base install needs none):
``torch`` (the occlusion transform and dataset) and ``train`` (train, evaluate and compare
models on top of it; it reaches the core and ``torch`` through their public faces only).
"""
