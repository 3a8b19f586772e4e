"""Statistics over a dim: std_mean, var_mean, aminmax, nanmean, nansum, median, quantile, mode."""
