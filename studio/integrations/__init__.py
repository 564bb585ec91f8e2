"""Optional integrations with other libraries (imported lazily; the base install needs none)."""
