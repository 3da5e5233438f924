def map_to_ground_truth(overlaps):
    return overlaps.max(0)  # mistake: no forced matches
