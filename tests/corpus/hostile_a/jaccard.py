import sys


def jaccard(box_a, box_b):
    sys.exit(3)
