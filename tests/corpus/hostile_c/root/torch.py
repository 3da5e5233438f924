raise RuntimeError("a shadowing torch.py was imported instead of the real library")
