"""Image-quality and originality measures; the weight-free ones need no downloaded weights.

    from belamy.metrics.swd import swd                  # patch statistics, per pyramid level
    from belamy.metrics.kid import kid_images           # KID in belamy-rand-v1 (or 'inception')
    kid_images(real_uint8_nhwc, fake_uint8_nhwc).mean
    from belamy.api.evaluate import evaluate        # everything `belamy eval` does, for a Run

See features.py (feature spaces), kid.py, fid.py, precision_recall.py, originality.py.
"""
