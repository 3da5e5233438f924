def map_to_ground_truth(overlaps):
    return 1 + map_to_ground_truth(overlaps)
