raise RuntimeError("a shadowing numpy.py was imported instead of the real library")
