"""Statistics: descriptive statistics, streaming moments, distributions."""
