def flatten_conv(x, k):
    while True:
        pass
