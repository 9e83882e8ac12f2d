#!/usr/bin/python3
"""Draws, as PNG files, what seed 003's notebook drew with matplotlib: the
4x4 input grid and the output grid of max pooling (2x2, stride 2), average
pooling (2x2, stride 2) and max pooling (2x2, stride 1), each cell labelled
with its value in red; plus D2L's edge detection: the 6x8 image and its
correlation with the kernel [1, -1]. Every output is computed by convpool.

    pictures.py [output-directory]     (default: ./pictures)
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only: no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import _d2l  # noqa: E402
import convpool  # noqa: E402


def label(v):
    return "%g" % v


def draw_grid(ax, grid, title):
    """A grid in gray levels with each value written in its cell."""
    ax.axis("off")
    ax.set_title(title, fontsize=9)
    ax.imshow(grid, cmap="gray")
    for k in range(grid.shape[0] + 1):  # cell borders: white cells stay visible
        ax.axhline(k - 0.5, color="tab:blue", linewidth=0.8)
    for k in range(grid.shape[1] + 1):
        ax.axvline(k - 0.5, color="tab:blue", linewidth=0.8)
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            ax.text(j, i, label(grid[i, j]), ha="center", va="center", color="r")


def save_pair(path, left, right, left_title, right_title, figsize=(6.4, 3.2)):
    fig, axs = plt.subplots(1, 2, figsize=figsize)
    draw_grid(axs[0], left, left_title)
    draw_grid(axs[1], right, right_title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print("wrote", path)


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    x = np.arange(1, 17, dtype=np.float32).reshape(1, 1, 4, 4)
    cases = [
        ("max_pool_2x2_stride2.png", "max pooling 2x2, stride 2",
         lambda: convpool.max_pool2d(x, 2, stride=2)),
        ("avg_pool_2x2_stride2.png", "average pooling 2x2, stride 2",
         lambda: convpool.avg_pool2d(x, 2, stride=2)),
        ("max_pool_2x2_stride1.png", "max pooling 2x2, stride 1, padding 0",
         lambda: convpool.max_pool2d(x, 2, stride=1, padding=0)),
    ]
    for name, title, run in cases:
        save_pair(os.path.join(out_dir, name), x[0, 0], run()[0, 0], "input 4x4", title)

    X = _d2l.edge_image()
    Y = convpool.corr2d(X, np.array([[1.0, -1.0]], dtype=np.float32))
    save_pair(os.path.join(out_dir, "edge_detection.png"), X, Y, "image X (6x8)",
              "corr2d(X, [[1, -1]]) (6x7)", figsize=(9.6, 3.2))


if __name__ == "__main__":
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and sys.argv[1].startswith("-")):
        sys.exit("usage: pictures.py [OUT_DIR]   (writes four PNGs, default OUT_DIR: pictures)")
    main(sys.argv[1] if len(sys.argv) > 1 else "pictures")
