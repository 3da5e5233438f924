import torchvision


def nms(boxes, scores, overlap=0.5, top_k=100):
    # mistake: torchvision's CPU nms has no float16 or integer kernel; nothing converts
    order = scores.argsort(descending=True, stable=True)[:top_k]
    return order[torchvision.ops.nms(boxes[order], scores[order], overlap)]
