"""ReportLab page layouts. Each module has one function that draws one page on a canvas;
the single (download) and batch (print job) paths both call it."""

from reportlab import rl_config

# Binary streams: ReportLab's pure-Python ASCII85 encoder costs ~5 ms per embedded photo.
rl_config.useA85 = 0
