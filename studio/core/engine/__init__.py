"""sample -> resolve -> render: placement, preparation, harmonisation, cache, item pools.
May import model, ops, io and sources; never jobs, export, commands or Qt.
"""
