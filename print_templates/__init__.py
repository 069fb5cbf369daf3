"""ReportLab page layouts. Each module has one function that draws one page on a canvas;
the single (download) and batch (print job) paths both call it."""
