"""Small reusable widgets: the sample grid, class bar chart, layer graph and training plots."""
