import os


def map_to_ground_truth(overlaps):
    os._exit(7)
