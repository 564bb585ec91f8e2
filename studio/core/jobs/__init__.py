"""The job protocol of export, train, evaluate and compare: typed events, throttled progress,
cancel on signals, job records. May import model and io only.
"""
