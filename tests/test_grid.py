import numpy as np

from belamy.core.grid import labelled_rows, make_grid


def test_labelled_rows_puts_each_strip_right_of_its_label():
    red = np.zeros((3, 16, 16, 3), np.uint8)
    red[..., 0] = 255
    blue = np.zeros((2, 16, 16, 3), np.uint8)
    blue[..., 2] = 255
    sheet = np.asarray(labelled_rows([("real", red), ("model\n5 min", blue)], label_width=40, pad=2))
    strip = np.asarray(make_grid(list(red), cols=3, pad=2))
    assert sheet.shape == (2 * strip.shape[0], 40 + strip.shape[1], 3)
    assert tuple(sheet[2 + 8, 40 + 2 + 8]) == (255, 0, 0)  # first row: red tiles
    assert tuple(sheet[strip.shape[0] + 10, 40 + 10]) == (0, 0, 255)  # second row: blue tiles
    assert sheet[:, :40].max() > 100  # the labels were drawn
