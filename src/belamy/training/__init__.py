"""Training: the phase loop, losses, augmentation, EMA, checkpoints and distribution."""
