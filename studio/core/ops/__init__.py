"""Array ops written once against a Backend (NumPy + OpenCV, or CuPy), and the backends.
May import model only.
"""
