"""Special functions and more elementwise math: erfc, erfinv, lgamma, digamma, xlogy, logit, and the like."""
