"""Figures of the book, legible at page width: one style, one function per figure.

:func:`book_style` sets sizes so that text is at least 9 pt as displayed on a
book page (figures 7.5 in wide at most, drawn at 100 dpi, text 10-12 pt);
colour maps annotate every cell in a colour readable on it
(:func:`annotate_heatmap`).
"""

from agser.plot.style import annotate_heatmap, book_style, glue_values, heatmap, page_table
from agser.plot.ser import plot_contrasts, plot_training
from agser.plot.association import plot_association
from agser.plot.corpora import corpus_colours, plot_channel, plot_example_utterance, plot_pose, plot_vowel_shapes
from agser.plot.landmarks import draw_face, plot_confidence, plot_faces, plot_mouth_pixels
from agser.plot.overlap import plot_table_pair
from agser.plot.segmentation import (
    plot_boundary_errors,
    plot_cut_trajectory,
    plot_eye_alignment,
    plot_phone_alignment,
    plot_phone_counts,
)

__all__ = ["annotate_heatmap", "book_style", "glue_values", "heatmap", "page_table", "plot_contrasts", "plot_training",
           "plot_association", "corpus_colours", "plot_channel", "plot_example_utterance", "plot_pose",
           "plot_vowel_shapes", "draw_face", "plot_confidence", "plot_faces", "plot_mouth_pixels",
           "plot_table_pair", "plot_boundary_errors", "plot_cut_trajectory", "plot_eye_alignment",
           "plot_phone_alignment", "plot_phone_counts"]
